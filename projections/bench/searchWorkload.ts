/**
 * The query mix support and finance run against the transaction search: a pasted reference, an
 * account's newest transactions, an amount band, a status and currency, words with a filter, a
 * week of activity, and a page deep behind a cursor. Each kind is timed on its own; a run is one
 * `search` call (the deep page's earlier pages are walked untimed).
 */
import type { SearchIndex, SearchQuery } from '@folio/shared';
import { BRAND_WORDS, COMMON_WORDS, type BenchAccount } from './ledgerWorkload.js';

export interface SearchContext {
  search: SearchIndex;
  index: string;
  accounts: readonly BenchAccount[];
  references: readonly string[];
  /** Business time covered by the index, for time ranges. */
  fromMs: number;
  toMs: number;
  random: () => number;
}

export interface SearchKind {
  name: string;
  /** Returns the query to time, after any untimed preparation (the deep page walks to its cursor). */
  prepare(context: SearchContext): Promise<SearchQuery>;
}

const pick = <T>(list: readonly T[], random: () => number): T => list[Math.floor(random() * list.length)]!;
const CURRENCIES = ['EUR', 'USD', 'GBP'];
const STATUSES = ['completed', 'failed', 'in_transit'];
const NEWEST = { field: 'requestedAt', direction: 'desc' } as const;
const DEEP_PAGES = 10;

export const searchKinds: readonly SearchKind[] = [
  {
    name: 'reference (full text)',
    prepare: async ({ references, random }) => ({ text: pick(references, random), sort: NEWEST }),
  },
  {
    name: 'account, newest first',
    prepare: async ({ accounts, random }) => ({ equals: { accounts: pick(accounts, random).id }, sort: NEWEST }),
  },
  {
    name: 'amount range, by amount',
    prepare: async ({ random }) => {
      const low = BigInt(Math.round(10 ** (2 + random() * 3.5)));
      return { ranges: { amount: { gte: low, lte: low + low / 20n + 1n } }, sort: { field: 'amount', direction: 'asc' } };
    },
  },
  {
    name: 'status + currency, newest first',
    prepare: async ({ random }) => ({ equals: { status: pick(STATUSES, random), currency: pick(CURRENCIES, random) }, sort: NEWEST }),
  },
  {
    name: 'words + filter, newest first',
    prepare: async ({ accounts, random }) =>
      random() < 0.5
        ? { text: pick(BRAND_WORDS, random), equals: { currency: pick(CURRENCIES, random) }, sort: NEWEST }
        : { text: pick(COMMON_WORDS, random), equals: { accounts: pick(accounts, random).id }, sort: NEWEST },
  },
  {
    name: 'one week, newest first',
    prepare: async ({ fromMs, toMs, random }) => {
      const start = fromMs + random() * Math.max(0, toMs - fromMs - 7 * 86_400_000);
      return {
        ranges: { requestedAt: { gte: new Date(start).toISOString(), lte: new Date(start + 7 * 86_400_000).toISOString() } },
        sort: NEWEST,
      };
    },
  },
  {
    name: `deep cursor (page ${DEEP_PAGES + 1})`,
    prepare: async ({ search, index, accounts, random }) => {
      const roll = random();
      const query: SearchQuery =
        roll < 0.4
          ? { equals: { status: 'completed' }, sort: NEWEST }
          : roll < 0.7
            ? { equals: { accounts: pick(accounts, random).id }, sort: NEWEST }
            : { text: pick(COMMON_WORDS, random), sort: { field: 'amount', direction: 'desc' } };
      let after: string | undefined;
      for (let page = 0; page < DEEP_PAGES; page++) {
        const result = await search.search(index, { ...query, ...(after === undefined ? {} : { after }) });
        if (result.nextCursor === undefined) break;
        after = result.nextCursor;
      }
      return { ...query, ...(after === undefined ? {} : { after }) };
    },
  },
];

export interface LatencyStats {
  runs: number;
  p50: number;
  p95: number;
  max: number;
  meanHits: number;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

export const statsOf = (millis: readonly number[], hits: number): LatencyStats => {
  const sorted = [...millis].sort((a, b) => a - b);
  return { runs: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? 0, meanHits: hits / Math.max(1, sorted.length) };
};

/**
 * Runs every kind `runs` times, interleaved (kind after kind) so the machine's noise spreads
 * over all of them, after a short untimed warm-up. Returns latencies per kind and overall.
 */
export const measureSearch = async (
  context: SearchContext,
  runs: number,
): Promise<{ perKind: Map<string, LatencyStats>; overall: LatencyStats }> => {
  for (const kind of searchKinds) {
    for (let n = 0; n < 5; n++) await context.search.search(context.index, await kind.prepare(context));
  }
  const millis = new Map<string, number[]>(searchKinds.map((kind) => [kind.name, []]));
  const hits = new Map<string, number>();
  for (let run = 0; run < runs; run++) {
    for (const kind of searchKinds) {
      const query = await kind.prepare(context);
      const started = performance.now();
      const result = await context.search.search(context.index, query);
      millis.get(kind.name)!.push(performance.now() - started);
      hits.set(kind.name, (hits.get(kind.name) ?? 0) + result.hits.length);
    }
  }
  const perKind = new Map(searchKinds.map((kind) => [kind.name, statsOf(millis.get(kind.name)!, hits.get(kind.name) ?? 0)]));
  const all = [...millis.values()].flat();
  const allHits = [...hits.values()].reduce((a, b) => a + b, 0);
  return { perKind, overall: statsOf(all, allHits) };
};
