import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { NotFoundError } from '../errors/commonErrors.js';
import { ValidationError } from '../errors/folioError.js';
import type {
  SearchDocument,
  SearchFieldValue,
  SearchIndex,
  SearchQuery,
  SearchResult,
  SearchSchema,
} from '../search/searchIndex.js';
import { rejectionOf } from './rejectionOf.js';

/** How the contract suite gets a search index of the adapter under test. */
export interface SearchIndexContractFactory {
  /** Adapter name shown in the suite title, e.g. `'sqlite'`. */
  name: string;
  /** A search index to test against; against a real server it is shared with other runs. */
  create(): Promise<SearchIndex>;
  /** Starts every index and alias name the suite creates, so a run's leftovers are recognisable. */
  prefix?: string;
}

const SCHEMA: SearchSchema = {
  fields: {
    description: 'text',
    reference: 'text',
    counterparty: 'text',
    account: 'keyword',
    status: 'keyword',
    currency: 'keyword',
    amount: 'amount',
    fee: 'amount',
    at: 'date',
  },
};

const MAX = 10n ** 18n - 1n;
const TWO_53 = 2n ** 53n;

type Fields = Record<string, SearchFieldValue>;

const doc = (id: string, version: bigint, fields: Fields): SearchDocument => ({ id, version, fields });

const idsOf = (result: SearchResult): string[] => result.hits.map((hit) => hit.id);


/** Expects a `ValidationError` whose message names `field`. */
const expectInvalid = async (promise: Promise<unknown>, field: string, what: string): Promise<void> => {
  const error = await rejectionOf(promise, what);
  expect(error, `${what} failed with ${String(error)}`).to.be.instanceOf(ValidationError);
  expect((error as Error).message, what).to.include(field);
};

const expectNotFound = async (promise: Promise<unknown>, what: string): Promise<void> => {
  const error = await rejectionOf(promise, what);
  expect(error, `${what} failed with ${String(error)}`).to.be.instanceOf(NotFoundError);
};

/**
 * Registers the search index contract: the semantics of the `SearchIndex` port (see its doc
 * comments) that every adapter must share, run against the adapter `factory` builds. Every test
 * works in indexes of its own, so it is safe against a shared server.
 *
 * Where the port is silent it pins what the adapters agree on: a missing sort value is the
 * lowest (first ascending, last descending), a multi-valued keyword sorts by its smallest value,
 * a range with no bound is no condition, a limit outside 1..500 or a cursor of another sort is a
 * `ValidationError`, and a missing index is a `NotFoundError`.
 */
export const describeSearchIndexContract = (factory: SearchIndexContractFactory): void => {
  describe(`search index contract: ${factory.name}`, () => {
    const prefix = factory.prefix ?? 'contract-';
    let store: SearchIndex;
    const created: string[] = [];

    before(async () => {
      store = await factory.create();
    });

    after(async () => {
      if (store === undefined) return;
      for (const name of created) await store.dropIndex(name);
      await store.close();
    });

    const uniqueName = (): string => `${prefix}${randomUUID().replaceAll('-', '').slice(0, 16)}`;

    const newIndex = async (schema: SearchSchema = SCHEMA, options?: { loading: boolean }): Promise<string> => {
      const name = uniqueName();
      created.push(name);
      await store.ensureIndex(name, schema, options);
      return name;
    };

    const write = async (index: string, documents: readonly SearchDocument[]): Promise<void> => {
      await store.upsert(index, documents);
      await store.refresh(index);
    };

    const search = async (index: string, query: SearchQuery = {}): Promise<string[]> => idsOf(await store.search(index, query));

    /** Every page of a query, following cursors; fails on a page loop. */
    const allPages = async (index: string, query: SearchQuery): Promise<string[][]> => {
      const pages: string[][] = [];
      let after: string | undefined;
      do {
        const result = await store.search(index, after === undefined ? query : { ...query, after });
        pages.push(idsOf(result));
        after = result.nextCursor;
        expect(pages.length, 'number of pages').to.be.below(100);
      } while (after !== undefined);
      return pages;
    };

    describe('indexes', () => {
      it('ensureIndex is idempotent, whatever the order the schema lists its fields in', async () => {
        const index = await newIndex();
        await store.ensureIndex(index, SCHEMA);
        await store.ensureIndex(index, { fields: Object.fromEntries(Object.entries(SCHEMA.fields).reverse()) });
        expect(await search(index)).to.deep.equal([]);
      });

      it('ensureIndex refuses an existing index with a different schema', async () => {
        const index = await newIndex();
        await expectInvalid(
          store.ensureIndex(index, { fields: { ...SCHEMA.fields, extra: 'keyword' } }),
          'schema',
          'ensureIndex with another schema',
        );
      });

      it('refuses names that are not lower-case letters, digits, _ and -', async () => {
        for (const name of ['Upper', '_leading', 'with space', 'a*b', '']) {
          await expectInvalid(store.ensureIndex(name, SCHEMA), 'index', `ensureIndex(${JSON.stringify(name)})`);
        }
      });

      it('refuses a schema with a field name or type it cannot map', async () => {
        await expectInvalid(store.ensureIndex(uniqueName(), { fields: { 'a.b': 'keyword' } }), 'a.b', 'dotted field name');
        await expectInvalid(
          store.ensureIndex(uniqueName(), { fields: { n: 'number' as never } }),
          'n',
          'unknown field type',
        );
      });

      it('reports a missing index as NotFoundError on every read and write, and dropping it is a no-op', async () => {
        const missing = uniqueName();
        await expectNotFound(store.get(missing, 'x'), 'get');
        await expectNotFound(store.search(missing, {}), 'search');
        await expectNotFound(store.upsert(missing, [doc('x', 1n, {})]), 'upsert');
        await expectNotFound(store.refresh(missing), 'refresh');
        await expectNotFound(store.checksum(missing), 'checksum');
        await expectNotFound(store.finishLoading(missing), 'finishLoading');
        await store.dropIndex(missing);
      });

      it('answers the same searches from an index created loading, before and after it finishes loading', async () => {
        const loading = await newIndex(SCHEMA, { loading: true });
        const complete = await newIndex();
        const statuses = ['PAID', 'FAILED', 'PENDING'];
        const documents = Array.from({ length: 40 }, (_, n) =>
          doc(`d${String(n).padStart(2, '0')}`, 1n, {
            description: `order ${n % 7 === 0 ? 'coffee' : 'books'} number ${n}`,
            account: n % 5 === 0 ? [`acc-${n % 3}`, 'acc-shared'] : `acc-${n % 3}`,
            status: statuses[n % 3]!,
            currency: n % 4 === 0 ? 'USD' : 'EUR',
            amount: n % 9 === 0 ? null : BigInt((n * 7919) % 1000) * 10n ** 15n,
            at: new Date(Date.UTC(2026, 0, 1) + ((n * 37) % 40) * 3_600_000).toISOString(),
          }),
        );
        for (const index of [loading, complete]) {
          await write(index, documents.slice(0, 25));
          await write(index, documents.slice(25));
        }
        const queries: SearchQuery[] = [
          { sort: { field: 'amount', direction: 'desc' }, limit: 7 },
          { sort: { field: 'at', direction: 'asc' }, equals: { status: 'PAID' }, limit: 4 },
          { equals: { account: 'acc-shared', currency: 'EUR' } },
          { ranges: { amount: { gte: 200n * 10n ** 15n, lte: 700n * 10n ** 15n } }, sort: { field: 'amount', direction: 'asc' }, limit: 3 },
          { text: 'books', equals: { account: 'acc-1' }, sort: { field: 'at', direction: 'desc' }, limit: 5 },
          { ranges: { at: { gte: '2026-01-01T05:00:00.000Z' } }, sort: { field: 'status', direction: 'asc' }, limit: 6 },
        ];
        const answers = async (index: string) => Promise.all(queries.map((query) => allPages(index, query)));
        const expected = await answers(complete);
        expect(expected.flat(2), 'the queries find documents').to.have.length.above(40);
        expect(await answers(loading), 'while loading').to.deep.equal(expected);
        await store.finishLoading(loading);
        await store.finishLoading(loading);
        await store.finishLoading(complete);
        expect(await answers(loading), 'loaded').to.deep.equal(expected);
        expect(await store.checksum(loading)).to.equal(await store.checksum(complete));
        // Of an index that exists, `loading` changes nothing.
        await store.ensureIndex(loading, SCHEMA, { loading: true });
        expect(await answers(loading)).to.deep.equal(expected);
        expect(await store.checksum(loading)).to.equal(await store.checksum(complete));
      });

      it('refuses a loading option that is not a boolean', async () => {
        await expectInvalid(store.ensureIndex(uniqueName(), SCHEMA, { loading: 'yes' as never }), 'loading', 'loading: "yes"');
      });

      it('dropIndex removes the index and its documents; ensuring it again starts empty', async () => {
        const index = await newIndex();
        await write(index, [doc('a', 1n, { status: 'PAID' })]);
        await store.dropIndex(index);
        await expectNotFound(store.get(index, 'a'), 'get after drop');
        await store.ensureIndex(index, SCHEMA);
        expect(await search(index)).to.deep.equal([]);
      });
    });

    describe('upsert and get', () => {
      it('round-trips every field type exactly: amounts as bigint up to the money bound, arrays, nulls', async () => {
        const index = await newIndex();
        const fields: Fields = {
          description: 'Coffee at Café Münch',
          reference: ['R-1', 'R-2'],
          counterparty: null,
          account: ['acc-1', 'acc-2'],
          status: 'PAID',
          currency: 'EUR',
          amount: MAX,
          fee: -MAX,
          at: '2024-05-01T12:00:00.123Z',
        };
        await write(index, [doc('t1', 7n, fields), doc('t2', 1n, { amount: TWO_53 + 1n })]);

        const hit = await store.get(index, 't1');
        expect(hit).to.deep.equal({ id: 't1', version: 7n, fields });
        expect(typeof hit!.fields.amount).to.equal('bigint');
        expect((await store.get(index, 't2'))!.fields).to.deep.equal({ amount: TWO_53 + 1n });
        expect(await store.get(index, 'nope')).to.equal(undefined);

        const found = await store.search(index, { equals: { status: 'PAID' } });
        expect(found.hits).to.deep.equal([{ id: 't1', version: 7n, fields }]);
      });

      it('rejects a batch with an invalid document, naming the field, and writes none of it', async () => {
        const index = await newIndex();
        const good = doc('good', 1n, { status: 'PAID' });
        // The path names the document in the batch and the field, down to an item of a list.
        const cases: [Fields, string][] = [
          [{ nope: 'x' }, 'documents[1].fields.nope:'],
          [{ toString: 'x' }, 'documents[1].fields.toString:'],
          [{ amount: 5 as never }, 'documents[1].fields.amount:'],
          [{ amount: MAX + 1n }, 'documents[1].fields.amount:'],
          [{ at: '2024-05-01 12:00' }, 'documents[1].fields.at:'],
          [{ at: '2024-02-30T00:00:00Z' }, 'documents[1].fields.at:'],
          [{ status: 42 as never }, 'documents[1].fields.status:'],
          [{ account: ['ok', 1 as never] }, 'documents[1].fields.account[1]:'],
          [{ status: 'ok', nope: 'x', account: [1 as never] }, 'documents[1].fields.nope:'],
          // Values no thread or wire can carry.
          [{ status: (() => 'PAID') as never }, 'documents[1].fields.status:'],
          [{ account: ['ok', Symbol('x') as never] }, 'documents[1].fields.account[1]:'],
        ];
        for (const [fields, field] of cases) {
          await expectInvalid(store.upsert(index, [good, doc('bad', 1n, fields)]), field, `upsert ${JSON.stringify(field)}`);
        }
        await expectInvalid(store.upsert(index, [doc('', 1n, {})]), 'documents[0].id:', 'empty id');
        await expectInvalid(store.upsert(index, [doc('v', -1n, {})]), 'documents[0].version:', 'negative version');
        await expectInvalid(store.upsert(index, [doc('v', 1 as never, {})]), 'documents[0].version:', 'number version');
        await store.refresh(index);
        expect(await store.get(index, 'good')).to.equal(undefined);
      });
    });

    describe('version guard', () => {
      it('ignores a write whose version is not above the stored one; a newer one replaces the document', async () => {
        const index = await newIndex();
        await write(index, [doc('t', 5n, { status: 'PENDING', amount: 100n })]);
        await write(index, [doc('t', 3n, { status: 'OLDER' })]);
        await write(index, [doc('t', 5n, { status: 'SAME-VERSION' })]);
        expect(await store.get(index, 't')).to.deep.equal({ id: 't', version: 5n, fields: { status: 'PENDING', amount: 100n } });
        expect(await search(index, { equals: { status: 'OLDER' } })).to.deep.equal([]);

        await write(index, [doc('t', 9n, { status: 'PAID', description: 'settled' })]);
        expect(await store.get(index, 't')).to.deep.equal({
          id: 't',
          version: 9n,
          fields: { status: 'PAID', description: 'settled' },
        });
        expect(await search(index, { equals: { status: 'PENDING' } })).to.deep.equal([]);
        expect(await search(index, { ranges: { amount: { gte: 0n } } })).to.deep.equal([]);
        expect(await search(index, { text: 'settled' })).to.deep.equal(['t']);
      });

      it('keeps the highest version when one batch holds several versions of a document', async () => {
        const index = await newIndex();
        await write(index, [doc('t', 2n, { status: 'B' }), doc('t', 3n, { status: 'C' }), doc('t', 1n, { status: 'A' })]);
        expect((await store.get(index, 't'))!.fields).to.deep.equal({ status: 'C' });
      });

      it('makes replaying the same batch a no-op: the checksum does not change', async () => {
        const index = await newIndex();
        const batch = [
          doc('a', 10n, { status: 'PAID', amount: 1n, description: 'first' }),
          doc('b', 11n, { status: 'PAID', amount: 2n }),
          doc('a', 12n, { status: 'REFUNDED', amount: 1n, description: 'first, refunded' }),
        ];
        await write(index, batch);
        const once = await store.checksum(index);
        await write(index, batch);
        expect(await store.checksum(index)).to.equal(once);
        expect((await store.get(index, 'a'))!.version).to.equal(12n);
      });
    });

    describe('full text', () => {
      let index: string;

      before(async () => {
        index = await newIndex();
        await write(index, [
          doc('a', 1n, { description: 'Coffee beans from Café Münch', counterparty: 'Acme Roasters', status: 'PAID' }),
          doc('b', 1n, { description: 'Monthly rent', reference: 'INV-2024-001', counterparty: 'Landlord Ltd', status: 'PAID' }),
          doc('c', 1n, { description: 'COFFEE machine repair', counterparty: 'Fixit', status: 'PENDING' }),
          doc('d', 1n, { description: 'Refund: coffee "beans" (damaged)', reference: ['RMA*42', 'ticket 7'], status: 'PAID' }),
          doc('e', 1n, { status: 'PAID' }),
        ]);
      });

      const found = async (text: string, query: SearchQuery = {}): Promise<string[]> =>
        (await search(index, { ...query, text })).sort();

      it('needs every word, in any order', async () => {
        expect(await found('coffee')).to.deep.equal(['a', 'c', 'd']);
        expect(await found('beans coffee')).to.deep.equal(['a', 'd']);
        expect(await found('coffee beans')).to.deep.equal(['a', 'd']);
        expect(await found('coffee landlord')).to.deep.equal([]);
      });

      it('matches each word as a prefix, as a user types', async () => {
        expect(await found('c')).to.deep.equal(['a', 'c', 'd']);
        expect(await found('cof')).to.deep.equal(['a', 'c', 'd']);
        expect(await found('coffee be')).to.deep.equal(['a', 'd']);
        expect(await found('mon re')).to.deep.equal(['b']);
      });

      it('folds case and diacritics both ways', async () => {
        expect(await found('cafe')).to.deep.equal(['a']);
        expect(await found('CAFÉ MUNCH')).to.deep.equal(['a']);
        expect(await found('münch')).to.deep.equal(['a']);
        expect(await found('rÉpair')).to.deep.equal(['c']);
      });

      it('finds text whatever Unicode form the query is typed in', async () => {
        const korean = await newIndex();
        // Hangul syllables, unlike accented Latin letters, share no letter with their decomposed form.
        await write(korean, [doc('k', 1n, { description: '한국 결제'.normalize('NFC'), status: 'PAID' })]);
        expect(await search(korean, { text: '한국'.normalize('NFD') })).to.deep.equal(['k']);
        expect(await search(korean, { text: '한국'.normalize('NFC') })).to.deep.equal(['k']);
      });

      it('finds a word written with characters no word is made of, as the query splits it', async () => {
        const odd = await newIndex();
        // A private-use character and an emoji newer than SQLite's Unicode tables: FTS5 alone keeps them inside a word.
        await write(odd, [
          doc('p', 1n, { reference: 'INV\u{E000}42', status: 'PAID' }),
          doc('q', 1n, { description: 'gift\u{1FAE0}card', status: 'PAID' }),
        ]);
        expect(await search(odd, { text: 'INV\u{E000}42' })).to.deep.equal(['p']);
        expect(await search(odd, { text: '42' })).to.deep.equal(['p']);
        expect(await search(odd, { text: 'gift\u{1FAE0}card' })).to.deep.equal(['q']);
        expect(await search(odd, { text: 'card' })).to.deep.equal(['q']);
      });

      it('finds words spread over several text fields, arrays included', async () => {
        expect(await found('coffee acme')).to.deep.equal(['a']);
        expect(await found('rent inv 2024')).to.deep.equal(['b']);
        expect(await found('refund rma 42 ticket')).to.deep.equal(['d']);
      });

      it('treats query syntax as plain words and never fails on it', async () => {
        expect(await found('coffee* "beans')).to.deep.equal(['a', 'd']);
        expect(await found('(beans) AND: coffee')).to.deep.equal([]);
        for (const text of ['"coffee', 'coffee*', 'NEAR(coffee', '-rent', 'description:coffee', 'a OR b', "it's", '^ {a} []']) {
          await store.search(index, { text });
        }
      });

      it('keeps a word with marks whole: found by its beginning, not by a letter inside it', async () => {
        const marked = await newIndex();
        // Hindi "work done" and Thai "eat rice": their vowel signs are marks, not word breaks.
        await write(marked, [
          doc('hi', 1n, { description: 'काम पूरा', status: 'PAID' }),
          doc('th', 1n, { description: 'กินข้าว', status: 'PAID' }),
        ]);
        expect(await search(marked, { text: 'का' })).to.deep.equal(['hi']);
        expect(await search(marked, { text: 'काम पू' })).to.deep.equal(['hi']);
        expect(await search(marked, { text: 'กิน' })).to.deep.equal(['th']);
        expect(await search(marked, { text: 'म' })).to.deep.equal([]);
        expect(await search(marked, { text: 'น' })).to.deep.equal([]);
      });

      it('ignores empty text or text of spaces only, and combines words with filters', async () => {
        expect(await found('')).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
        expect(await found(' \t\n ')).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
        expect(await found('coffee', { equals: { status: 'PAID' } })).to.deep.equal(['a', 'd']);
      });

      it('refuses text with no letter or digit in it, naming text, rather than find everything', async () => {
        for (const text of [' ?! ', '"', '*', '^ {} []', '#', '--', '\u{1F600}', '\u0301']) {
          await expectInvalid(store.search(index, { text }), 'text', `text ${JSON.stringify(text)}`);
        }
      });

      it('finds every word a long prefix starts, whether few or many words start with it, beside filters', async () => {
        const many = await newIndex();
        // 25 words start with "batch" (more than a query names one by one), 11 with "batch1", one with "batch13x".
        await write(
          many,
          Array.from({ length: 24 }, (_, n) =>
            doc(`m${n}`, 1n, {
              description: `Batch${String(n).padStart(2, '0')}${n === 13 ? 'x' : ''} settled`,
              account: [`acc-${n % 2}`],
              status: n % 3 === 0 ? 'PAID' : 'PENDING',
            }),
          ),
        );
        const ids = async (text: string, query: SearchQuery = {}) => (await search(many, { ...query, text })).sort();
        const named = (...numbers: number[]) => numbers.map((n) => `m${n}`).sort();
        expect(await ids('batch')).to.have.length(24);
        expect(await ids('BATCH1')).to.deep.equal(named(10, 11, 12, 13, 14, 15, 16, 17, 18, 19));
        expect(await ids('batch13x')).to.deep.equal(named(13));
        expect(await ids('batch0 settled', { equals: { account: 'acc-1' } })).to.deep.equal(named(1, 3, 5, 7, 9));
        expect(await ids('batch2', { equals: { status: 'PAID' } })).to.deep.equal(named(21));
        expect(await ids('batch99')).to.deep.equal([]);
      });
    });

    describe('equals', () => {
      let index: string;

      before(async () => {
        index = await newIndex();
        await write(index, [
          doc('a', 1n, { account: ['acc-1', 'acc-2'], status: 'PAID', currency: 'EUR' }),
          doc('b', 1n, { account: 'acc-2', status: 'PENDING', currency: 'EUR' }),
          doc('c', 1n, { account: ['acc-3'], status: 'PAID', currency: 'USD' }),
          doc('d', 1n, { account: [], status: null, currency: 'USD' }),
        ]);
      });

      const found = async (query: SearchQuery): Promise<string[]> => (await search(index, query)).sort();

      it('matches a keyword exactly, and a multi-valued field when any of its values matches', async () => {
        expect(await found({ equals: { account: 'acc-2' } })).to.deep.equal(['a', 'b']);
        expect(await found({ equals: { account: 'acc-1' } })).to.deep.equal(['a']);
        expect(await found({ equals: { account: 'acc' } })).to.deep.equal([]);
        expect(await found({ equals: { status: 'paid' } })).to.deep.equal([]);
      });

      it('matches any of several wanted values, and ANDs the fields', async () => {
        expect(await found({ equals: { account: ['acc-3', 'acc-9'] } })).to.deep.equal(['c']);
        expect(await found({ equals: { account: ['acc-1', 'acc-3'] } })).to.deep.equal(['a', 'c']);
        expect(await found({ equals: { status: 'PAID', currency: 'EUR' } })).to.deep.equal(['a']);
        expect(await found({ equals: { account: 'acc-2', currency: 'USD' } })).to.deep.equal([]);
        expect(await found({ equals: { status: [] } })).to.deep.equal([]);
      });

      it('refuses an unknown field or a field that is not a keyword, naming it', async () => {
        await expectInvalid(store.search(index, { equals: { nope: 'x' } }), 'nope', 'equals on an unknown field');
        await expectInvalid(store.search(index, { equals: { constructor: 'x' } }), 'constructor', 'equals on an inherited name');
        await expectInvalid(store.search(index, { equals: { description: 'x' } }), 'description', 'equals on a text field');
        await expectInvalid(store.search(index, { equals: { amount: '5' } }), 'amount', 'equals on an amount');
      });
    });

    describe('ranges', () => {
      let index: string;
      const amounts: Record<string, bigint | null> = {
        min: -MAX,
        neg: -1n,
        zero: 0n,
        below: TWO_53 - 1n,
        at53: TWO_53,
        above1: TWO_53 + 1n,
        above2: TWO_53 + 2n,
        max: MAX,
        none: null,
      };
      const times: Record<string, string> = {
        t0: '2024-01-01T00:00:00.000Z',
        t1: '2024-01-01T00:00:00.001Z',
        t2: '2024-06-30T23:59:59.999Z',
        t3: '2024-07-01T00:00:00Z',
      };

      before(async () => {
        index = await newIndex();
        await write(index, [
          ...Object.entries(amounts).map(([id, amount]) => doc(id, 1n, { amount })),
          ...Object.entries(times).map(([id, at]) => doc(id, 1n, { at })),
        ]);
      });

      const found = async (query: SearchQuery): Promise<string[]> => (await search(index, { limit: 500, ...query })).sort();
      const withAmounts = (keep: (amount: bigint) => boolean): string[] =>
        Object.entries(amounts)
          .filter(([, amount]) => amount !== null && keep(amount))
          .map(([id]) => id)
          .sort();

      it('compares amounts exactly beyond 2^53, bounds inclusive', async () => {
        expect(await found({ ranges: { amount: { gte: TWO_53 + 1n, lte: TWO_53 + 1n } } })).to.deep.equal(['above1']);
        expect(await found({ ranges: { amount: { gte: TWO_53 } } })).to.deep.equal(withAmounts((a) => a >= TWO_53));
        expect(await found({ ranges: { amount: { lte: TWO_53 } } })).to.deep.equal(withAmounts((a) => a <= TWO_53));
        expect(await found({ ranges: { amount: { gte: TWO_53 + 2n, lte: MAX - 1n } } })).to.deep.equal(['above2']);
        expect(await found({ ranges: { amount: { gte: MAX } } })).to.deep.equal(['max']);
        expect(await found({ ranges: { amount: { lte: -MAX } } })).to.deep.equal(['min']);
        expect(await found({ ranges: { amount: { gte: 1n, lte: 0n } } })).to.deep.equal([]);
        expect(await found({ ranges: { amount: {} } })).to.have.length(Object.keys(amounts).length + Object.keys(times).length);
      });

      it('answers bounds beyond the money bound exactly', async () => {
        expect(await found({ ranges: { amount: { gte: 10n ** 19n } } })).to.deep.equal([]);
        expect(await found({ ranges: { amount: { lte: 10n ** 30n } } })).to.deep.equal(withAmounts(() => true));
        expect(await found({ ranges: { amount: { gte: -(10n ** 30n), lte: -1n } } })).to.deep.equal(['min', 'neg']);
      });

      it('agrees with exact bigint comparison for any bounds (property)', async () => {
        const interesting = Object.values(amounts).flatMap((a) => (a === null ? [] : [a - 1n, a, a + 1n]));
        await fc.assert(
          fc.asyncProperty(
            fc.option(fc.constantFrom(...interesting), { nil: undefined }),
            fc.option(fc.constantFrom(...interesting), { nil: undefined }),
            async (gte, lte) => {
              fc.pre(gte !== undefined || lte !== undefined);
              const expected = withAmounts((a) => (gte === undefined || a >= gte) && (lte === undefined || a <= lte));
              expect(await found({ ranges: { amount: { gte, lte } } })).to.deep.equal(expected);
            },
          ),
          { numRuns: 25 },
        );
      });

      it('compares dates to the millisecond, bounds inclusive', async () => {
        expect(await found({ ranges: { at: { gte: times.t1, lte: times.t2 } } })).to.deep.equal(['t1', 't2']);
        expect(await found({ ranges: { at: { lte: '2024-01-01T00:00:00Z' } } })).to.deep.equal(['t0']);
        expect(await found({ ranges: { at: { gte: '2024-06-30T23:59:59.999Z' } } })).to.deep.equal(['t2', 't3']);
        expect(await found({ ranges: { at: { gte: '2024-07-01T00:00:00.001Z' } } })).to.deep.equal([]);
      });

      it('refuses a bound of the wrong type, a range on a keyword or unknown field, naming it', async () => {
        await expectInvalid(store.search(index, { ranges: { amount: { gte: '5' } } }), 'amount', 'string amount bound');
        await expectInvalid(store.search(index, { ranges: { at: { gte: 5n } } }), 'at', 'bigint date bound');
        await expectInvalid(store.search(index, { ranges: { at: { lte: 'yesterday' } } }), 'at', 'unparsable date bound');
        await expectInvalid(store.search(index, { ranges: { status: { gte: 1n } } }), 'status', 'range on a keyword');
        await expectInvalid(store.search(index, { ranges: { nope: { gte: 1n } } }), 'nope', 'range on an unknown field');
      });
    });

    describe('sorting', () => {
      let index: string;

      before(async () => {
        index = await newIndex();
        await write(index, [
          doc('s1', 1n, { amount: 500n, at: '2024-03-01T00:00:00Z', status: 'b', account: ['k', 'c'] }),
          doc('s2', 1n, { amount: 100n, at: '2024-01-01T00:00:00Z', status: 'a', account: 'd' }),
          doc('s3', 1n, { amount: 500n, at: '2024-02-01T00:00:00Z', status: 'b', account: ['a', 'z'] }),
          doc('s4', 1n, { amount: TWO_53 + 1n, at: '2024-03-01T00:00:00Z', status: 'c', account: 'b' }),
          doc('s5', 1n, { amount: TWO_53, at: '2024-04-01T00:00:00Z', status: 'a' }),
          doc('s6', 1n, { description: 'no amount, no date' }),
        ]);
      });

      const sortedBy = (field: string, direction: 'asc' | 'desc'): Promise<string[]> =>
        search(index, { sort: { field, direction } });

      it('sorts by amount exactly both ways, ties by id in the same direction, missing values lowest', async () => {
        expect(await sortedBy('amount', 'asc')).to.deep.equal(['s6', 's2', 's1', 's3', 's5', 's4']);
        expect(await sortedBy('amount', 'desc')).to.deep.equal(['s4', 's5', 's3', 's1', 's2', 's6']);
      });

      it('sorts by date both ways', async () => {
        expect(await sortedBy('at', 'asc')).to.deep.equal(['s6', 's2', 's3', 's1', 's4', 's5']);
        expect(await sortedBy('at', 'desc')).to.deep.equal(['s5', 's4', 's1', 's3', 's2', 's6']);
      });

      it('sorts by keyword; a multi-valued one by its smallest value in both directions', async () => {
        expect(await sortedBy('status', 'asc')).to.deep.equal(['s6', 's2', 's5', 's1', 's3', 's4']);
        expect(await sortedBy('account', 'asc')).to.deep.equal(['s5', 's6', 's3', 's4', 's1', 's2']);
        expect(await sortedBy('account', 'desc')).to.deep.equal(['s2', 's1', 's4', 's3', 's6', 's5']);
      });

      it('sorts by id ascending by default', async () => {
        expect(await search(index)).to.deep.equal(['s1', 's2', 's3', 's4', 's5', 's6']);
      });

      it('refuses to sort by a text or unknown field, or in an unknown direction', async () => {
        await expectInvalid(store.search(index, { sort: { field: 'description', direction: 'asc' } }), 'description', 'sort by text');
        await expectInvalid(store.search(index, { sort: { field: 'nope', direction: 'asc' } }), 'nope', 'sort by unknown');
        await expectInvalid(
          store.search(index, { sort: { field: 'amount', direction: 'up' as never } }),
          'direction',
          'unknown direction',
        );
      });
    });

    describe('cursor paging and limits', () => {
      const sorts: (SearchQuery['sort'] | undefined)[] = [
        undefined,
        { field: 'amount', direction: 'asc' },
        { field: 'amount', direction: 'desc' },
        { field: 'at', direction: 'desc' },
        { field: 'account', direction: 'asc' },
      ];

      /** 23 documents with ties and missing values, so pages end inside runs of equal keys. */
      const corpus = (): SearchDocument[] =>
        Array.from({ length: 23 }, (_, i) =>
          doc(`p${String(i).padStart(2, '0')}`, 1n, {
            amount: i % 5 === 4 ? null : TWO_53 + BigInt(i % 3),
            at: i % 7 === 6 ? null : `2024-01-0${1 + (i % 4)}T00:00:00Z`,
            account: i % 6 === 5 ? [] : [`acc-${i % 4}`, `acc-${(i * 7) % 5}`],
          }),
        );

      it('pages through every document once, in the order of one big page', async () => {
        const index = await newIndex();
        await write(index, corpus());
        for (const sort of sorts) {
          const query: SearchQuery = sort === undefined ? {} : { sort };
          const everything = await search(index, { ...query, limit: 500 });
          const pages = await allPages(index, { ...query, limit: 5 });
          expect(pages.flat(), JSON.stringify(sort)).to.deep.equal(everything);
          expect(pages.slice(0, -1).every((page) => page.length === 5), JSON.stringify(sort)).to.equal(true);
          expect(pages.at(-1)!.length, JSON.stringify(sort)).to.be.within(1, 5);
        }
      });

      it('stays stable while documents are added between pages: no repeats, no skipped earlier documents', async () => {
        for (const sort of sorts) {
          const index = await newIndex();
          const existing = corpus();
          await write(index, existing);
          const query: SearchQuery = { limit: 4, ...(sort === undefined ? {} : { sort }) };
          const seen: string[] = [];
          let after: string | undefined;
          let round = 0;
          do {
            expect(round, `${JSON.stringify(sort)}: pages never end`).to.be.below(100);
            const result = await store.search(index, after === undefined ? query : { ...query, after });
            seen.push(...idsOf(result));
            after = result.nextCursor;
            // New documents land before, inside and after the position reached so far.
            round += 1;
            await write(index, [
              doc(`n${round}a`, 1n, { amount: TWO_53 + 1n, at: '2024-01-02T00:00:00Z', account: 'acc-1' }),
              doc(`p${String(round).padStart(2, '0')}x`, 1n, { amount: -5n, at: '2030-01-01T00:00:00Z', account: 'acc-0' }),
              doc(`z${round}`, 1n, { amount: MAX, at: '2000-01-01T00:00:00Z', account: 'zz' }),
            ]);
          } while (after !== undefined);
          const label = JSON.stringify(sort);
          expect(new Set(seen).size, `${label}: repeats in ${seen.join(',')}`).to.equal(seen.length);
          for (const { id } of existing) expect(seen, `${label}: ${id} skipped`).to.include(id);
        }
      });

      it('defaults to 50 hits, allows up to 500, refuses other limits', async () => {
        const index = await newIndex();
        await write(
          index,
          Array.from({ length: 60 }, (_, i) => doc(`l${String(i).padStart(2, '0')}`, 1n, { status: 'PAID' })),
        );
        const first = await store.search(index, {});
        expect(first.hits).to.have.length(50);
        expect(first.nextCursor).to.be.a('string');
        const rest = await store.search(index, { after: first.nextCursor! });
        expect(rest.hits).to.have.length(10);
        expect(rest.nextCursor).to.equal(undefined);
        expect((await store.search(index, { limit: 500 })).hits).to.have.length(60);
        expect(idsOf(await store.search(index, { limit: 1 }))).to.deep.equal(['l00']);
        for (const limit of [0, -1, 501, 2.5, Number.NaN]) {
          await expectInvalid(store.search(index, { limit }), 'limit', `limit ${limit}`);
        }
      });

      it('refuses a cursor of another sort order, and one that does not decode', async () => {
        const index = await newIndex();
        await write(index, corpus());
        const { nextCursor } = await store.search(index, { sort: { field: 'amount', direction: 'asc' }, limit: 2 });
        await expectInvalid(
          store.search(index, { sort: { field: 'amount', direction: 'desc' }, after: nextCursor! }),
          'after',
          'cursor of another direction',
        );
        await expectInvalid(store.search(index, { after: nextCursor! }), 'after', 'cursor of another field');
        await expectInvalid(store.search(index, { after: 'not a cursor' }), 'after', 'garbage cursor');
      });

      it('refuses a cursor whose amount no search issued, and answers the next search as before', async () => {
        const index = await newIndex();
        await write(index, corpus());
        const sort = { field: 'amount', direction: 'asc' } as const;
        const expected = await store.search(index, { sort, limit: 2 });
        const body = JSON.parse(Buffer.from(expected.nextCursor!, 'base64url').toString('utf8')) as Record<string, unknown>;
        for (const k of ['9999999999999999999', '-9999999999999999999']) {
          const forged = Buffer.from(JSON.stringify({ ...body, k }), 'utf8').toString('base64url');
          await expectInvalid(store.search(index, { sort, after: forged }), 'after', `amount key ${k}`);
        }
        expect(await store.search(index, { sort, limit: 2 })).to.deep.equal(expected);
      });
    });

    describe('aliases', () => {
      it('resolves nothing for an unknown alias', async () => {
        expect(await store.resolveAlias(uniqueName())).to.equal(undefined);
      });

      it('accepts the alias wherever an index name goes', async () => {
        const index = await newIndex();
        const alias = uniqueName();
        await store.setAlias(alias, index);
        expect(await store.resolveAlias(alias)).to.equal(index);

        await store.ensureIndex(alias, SCHEMA);
        await store.upsert(alias, [doc('a', 1n, { status: 'PAID', amount: MAX })]);
        await store.refresh(alias);
        expect(await store.get(alias, 'a')).to.deep.equal(await store.get(index, 'a'));
        expect(await search(alias, { equals: { status: 'PAID' } })).to.deep.equal(['a']);
        expect(await store.checksum(alias)).to.equal(await store.checksum(index));
      });

      it('swaps the alias to a new index in one step, searches never seeing neither', async () => {
        const live = await newIndex();
        const rebuilt = await newIndex();
        await write(live, [doc('old', 1n, { status: 'PAID' })]);
        await write(rebuilt, [doc('new', 1n, { status: 'PAID' })]);
        const alias = uniqueName();
        await store.setAlias(alias, live);

        const searches = Array.from({ length: 12 }, () => search(alias));
        const swaps = (async () => {
          for (const target of [rebuilt, live, rebuilt]) await store.setAlias(alias, target);
        })();
        const [results] = await Promise.all([Promise.all(searches), swaps]);
        for (const ids of results) expect([['old'], ['new']]).to.deep.include(ids);

        expect(await store.resolveAlias(alias)).to.equal(rebuilt);
        expect(await search(alias)).to.deep.equal(['new']);
        expect(await search(live)).to.deep.equal(['old']);
      });

      it('refuses an alias to a missing index, or named like an existing index', async () => {
        const index = await newIndex();
        await expectNotFound(store.setAlias(uniqueName(), uniqueName()), 'alias to a missing index');
        const other = await newIndex();
        await expectInvalid(store.setAlias(other, index), 'alias', 'alias named like an index');
      });

      it('lists the indexes whose names start with a prefix, in name order, never an alias', async () => {
        const family = uniqueName();
        const names = [`${family}-v2`, `${family}-v1-rebuild-a`, `${family}-v1`];
        for (const name of names) {
          created.push(name);
          await store.ensureIndex(name, SCHEMA);
        }
        await store.setAlias(`${family}-alias`, `${family}-v2`);
        expect(await store.listIndexes(`${family}-v`)).to.deep.equal([`${family}-v1`, `${family}-v1-rebuild-a`, `${family}-v2`]);
        expect(await store.listIndexes(family)).to.deep.equal([`${family}-v1`, `${family}-v1-rebuild-a`, `${family}-v2`]);
        expect(await store.listIndexes(`${family}-v1-`)).to.deep.equal([`${family}-v1-rebuild-a`]);
        expect(await store.listIndexes(uniqueName())).to.deep.equal([]);
        await store.dropIndex(`${family}-v1`);
        expect(await store.listIndexes(`${family}-v`)).to.deep.equal([`${family}-v1-rebuild-a`, `${family}-v2`]);
        await expectInvalid(store.listIndexes('Not A Prefix'), 'prefix', 'a prefix no index name could have');
      });

      it('dropping the index drops its alias; dropping through the alias drops the index', async () => {
        const index = await newIndex();
        const alias = uniqueName();
        await store.setAlias(alias, index);
        await store.dropIndex(index);
        expect(await store.resolveAlias(alias)).to.equal(undefined);

        const second = await newIndex();
        await store.setAlias(alias, second);
        await store.dropIndex(alias);
        await expectNotFound(store.search(second, {}), 'search of an index dropped through its alias');
      });
    });

    describe('checksum', () => {
      const contents = (): SearchDocument[] => [
        doc('c1', 3n, { description: 'Café', account: ['x', 'y'], amount: MAX, at: '2024-05-01T00:00:00Z' }),
        doc('c2', 4n, { status: 'PAID', amount: -1n, fee: null }),
        doc('c3', 9n, { reference: ['r1', 'r2'], currency: 'JPY' }),
      ];

      it('is equal for equal contents written in different orders and batches', async () => {
        const forwards = await newIndex();
        const backwards = await newIndex();
        expect(await store.checksum(forwards)).to.equal(await store.checksum(backwards));

        await write(forwards, contents());
        const reversed = contents().reverse();
        await write(backwards, [doc('c2', 1n, { status: 'STALE' })]);
        for (const document of reversed) await write(backwards, [document]);
        await write(backwards, [doc('c3', 2n, { currency: 'OLD' })]);
        expect(await store.checksum(backwards)).to.equal(await store.checksum(forwards));
      });

      it('differs when a version or a field differs', async () => {
        const base = await newIndex();
        await write(base, contents());
        const checksum = await store.checksum(base);

        const otherVersion = await newIndex();
        await write(otherVersion, contents().map((d) => (d.id === 'c2' ? { ...d, version: 5n } : d)));
        expect(await store.checksum(otherVersion)).to.not.equal(checksum);

        const otherAmount = await newIndex();
        await write(otherAmount, contents().map((d) => (d.id === 'c1' ? { ...d, fields: { ...d.fields, amount: MAX - 1n } } : d)));
        expect(await store.checksum(otherAmount)).to.not.equal(checksum);
      });
    });
  });
};
