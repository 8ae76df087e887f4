/**
 * The bench's ledger: customer and merchant accounts in three currencies, deposits from the bank
 * system account, and transfers between accounts (first leg, second leg, outcome; a few fail or
 * stay in transit), with references, descriptions and metadata drawn from skewed word lists so
 * full-text search meets common and rare words alike. Deterministic for a seed, apart from the
 * event ids.
 *
 * Events are appended as the write side's concurrent processes would leave them: per chunk of
 * movements, every first leg, then every second leg, then every outcome, each appended to its own
 * stream with an exact expected revision, all submitted in one turn so the store's group commit
 * writes the chunk in one transaction.
 */
import { randomUUID } from 'node:crypto';
import {
  accountStream,
  depositStream,
  formatMinorUnits,
  ledgerCatalog,
  sortableBigint,
  systemAccountId,
  transferStream,
  type CurrencyCode,
  type EventStore,
  type EventToAppend,
  type JournalRef,
  type LedgerEvent,
  type Movement,
} from '@folio/shared';
import type { TransactionDocument } from '../src/index.js';

export type Outcome = 'completed' | 'failed' | 'in_transit';

export interface BenchAccount {
  id: string;
  currency: CurrencyCode;
  kind: 'customer' | 'merchant';
}

export interface PlannedMovement {
  id: string;
  kind: 'transfer' | 'deposit';
  movement: Movement;
  outcome: Outcome;
  /** Business time of the outcome (and of the legs, a few hundred ms apart). */
  at: number;
}

const CURRENCIES: readonly { code: CurrencyCode; share: number }[] = [
  { code: 'EUR', share: 0.7 },
  { code: 'USD', share: 0.2 },
  { code: 'GBP', share: 0.1 },
];

// Word lists written for this bench; combined they give a few thousand distinct phrases.
const PURPOSES = [
  'invoice', 'rent', 'salary', 'refund', 'subscription', 'utilities', 'groceries', 'consulting',
  'tuition', 'insurance', 'loan repayment', 'dividend', 'commission', 'travel', 'hotel', 'fuel',
  'repairs', 'membership', 'donation', 'freight', 'licence', 'hardware', 'catering', 'cleaning',
  'advertising', 'parking', 'dental care', 'gym', 'phone bill', 'pocket money', 'wedding gift',
  'school trip', 'veterinary', 'furniture', 'electricity', 'water', 'heating', 'broadband',
];
const BRAND_HEADS = [
  'Nordwind', 'Blue Harbor', 'Kestrel', 'Alder', 'Copperfield', 'Lumen', 'Marigold', 'Orchid',
  'Pinecrest', 'Quarry', 'Redwood', 'Saffron', 'Tidewater', 'Umbra', 'Vantage', 'Willow', 'Yarrow',
  'Zephyr', 'Brightline', 'Cobalt', 'Driftwood', 'Ember', 'Foxglove', 'Granite', 'Hollow Oak',
  'Ironbark', 'Juniper', 'Larkspur', 'Meadowlane', 'Northstar', 'Obsidian', 'Papillon', 'Riverside',
  'Silverbirch', 'Thornbury', 'Velvet', 'Westgate', 'Amberley', 'Bramble', 'Cedarwood',
];
const BRAND_TAILS = [
  'Logistics', 'Bakery', 'Studio', 'Consulting', 'Energy', 'Pharmacy', 'Garage', 'Books', 'Foods',
  'Telecom', 'Travel', 'Insurance', 'Dental', 'Print', 'Hardware', 'Analytics', 'Apparel',
  'Coffee', 'Florist', 'Fitness', 'Outfitters', 'Brewing', 'Optics', 'Marine',
];
const FIRST_NAMES = [
  'Anna', 'Ben', 'Chloe', 'David', 'Elena', 'Farid', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kira',
  'Lukas', 'Mara', 'Nils', 'Olga', 'Pavel', 'Quentin', 'Rosa', 'Samir', 'Tess', 'Ugo', 'Vera',
  'Wim', 'Xenia', 'Yusuf', 'Zoe', 'Aisha', 'Bruno', 'Carmen', 'Dmitri', 'Emil', 'Fatima',
];
const LAST_NAMES = [
  'Achterberg', 'Bellamy', 'Castellano', 'Dubois', 'Eriksen', 'Fontaine', 'Gallagher', 'Hartmann',
  'Ivanova', 'Jablonski', 'Kowalczyk', 'Lindqvist', 'Moreau', 'Novak', 'Okafor', 'Petrov',
  'Quispe', 'Rossi', 'Schneider', 'Tanaka', 'Urquhart', 'Varga', 'Whitfield', 'Yilmaz', 'Zielinski',
];
const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December',
];
const CHANNELS = ['web', 'mobile', 'api', 'branch', 'batch'];
const CATEGORIES = [
  'household', 'business', 'leisure', 'health', 'education', 'transport', 'housing', 'family',
  'savings', 'taxes', 'charity', 'supplies',
];

/** Searchable words, by how often they occur: the bench's queries draw on both ends. */
export const COMMON_WORDS = ['invoice', 'rent', 'salary', 'refund', 'web', 'mobile', 'household'];
export const BRAND_WORDS = BRAND_HEADS.map((head) => head.split(' ')[0]!.toLowerCase());

const SNOWFLAKE_EPOCH_MS = Date.UTC(2024, 0, 1);

export interface LedgerWorkloadOptions {
  accounts: number;
  seed?: number;
}

/** Plans the ledger's accounts and movements; knows nothing of the store. */
export class LedgerPlanner {
  readonly accounts: BenchAccount[];
  readonly banks: ReadonlyMap<CurrencyCode, string>;
  private readonly byCurrency = new Map<CurrencyCode, BenchAccount[]>();
  private seed: number;
  /** Business clock: starts on 2025-01-01 and advances a few seconds to a few minutes per movement. */
  private clock = Date.UTC(2025, 0, 1);
  private sequence = 0;
  /** A sample of generated references (reservoir), for the bench's reference searches. */
  readonly sampleReferences: string[] = [];
  private referencesSeen = 0;
  movements = 0;

  constructor(options: LedgerWorkloadOptions) {
    this.seed = options.seed ?? 20_261_126;
    this.banks = new Map(CURRENCIES.map(({ code }) => [code, systemAccountId({ role: 'bank', currency: code })]));
    this.accounts = Array.from({ length: options.accounts }, (_, index) => {
      const roll = this.random();
      let cumulative = 0;
      const currency = CURRENCIES.find(({ share }) => (cumulative += share) >= roll)?.code ?? 'EUR';
      const account: BenchAccount = {
        id: String(1_000_000_000 + index * 7919),
        currency,
        kind: this.random() < 0.1 ? 'merchant' : 'customer',
      };
      const list = this.byCurrency.get(currency) ?? [];
      list.push(account);
      this.byCurrency.set(currency, list);
      return account;
    });
  }

  /** Park–Miller style LCG: fast and deterministic; statistical quality is not the point. */
  random(): number {
    this.seed = (this.seed * 48271) % 2147483647;
    return this.seed / 2147483647;
  }

  /** Index skewed towards the start of the list: a few values are common, most are rare. */
  private skewed<T>(list: readonly T[], power = 2): T {
    return list[Math.floor(list.length * this.random() ** power)]!;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(list.length * this.random())]!;
  }

  /** A Snowflake-shaped id: business time, node 1, a sequence. */
  private nextId(): string {
    this.sequence += 1;
    return (
      (BigInt(this.clock - SNOWFLAKE_EPOCH_MS) << 22n) |
      (1n << 12n) |
      BigInt(this.sequence & 4095)
    ).toString();
  }

  private digits(count: number): string {
    return String(Math.floor(this.random() * 10 ** count)).padStart(count, '0');
  }

  private reference(at: Date): string {
    const year = at.getUTCFullYear();
    const roll = this.random();
    const reference =
      roll < 0.35
        ? `INV-${year}-${this.digits(6)}`
        : roll < 0.55
          ? `PO ${this.digits(5)}`
          : roll < 0.75
            ? `SEPA ${Math.floor(this.random() * 36 ** 8).toString(36).toUpperCase().padStart(8, '0')}`
            : roll < 0.9
              ? `ORDER ${this.digits(7)}`
              : `${MONTHS[at.getUTCMonth()]!.slice(0, 3).toUpperCase()} ${year} ${this.pick(PURPOSES)}`;
    // Reservoir sample of 2,000 references.
    this.referencesSeen += 1;
    if (this.sampleReferences.length < 2000) this.sampleReferences.push(reference);
    else {
      const slot = Math.floor(this.random() * this.referencesSeen);
      if (slot < 2000) this.sampleReferences[slot] = reference;
    }
    return reference;
  }

  private brand(): string {
    return `${this.skewed(BRAND_HEADS)} ${this.skewed(BRAND_TAILS, 1.5)}`;
  }

  private person(): string {
    return `${this.pick(FIRST_NAMES)} ${this.pick(LAST_NAMES)}`;
  }

  private description(at: Date): string | undefined {
    const roll = this.random();
    if (roll < 0.15) return undefined;
    const month = MONTHS[at.getUTCMonth()]!;
    if (roll < 0.6) return `${this.skewed(PURPOSES)} ${this.brand()} ${month} ${at.getUTCFullYear()}`;
    if (roll < 0.85) return `${this.skewed(PURPOSES)} for ${this.person()}`;
    return `${this.brand()} order ${this.digits(5)} ${this.pick(CATEGORIES)}`;
  }

  private metadata(): Record<string, string> | undefined {
    if (this.random() < 0.3) return undefined;
    const metadata: Record<string, string> = {
      channel: this.skewed(CHANNELS),
      customer: this.person(),
      category: this.skewed(CATEGORIES),
    };
    if (this.random() < 0.4) metadata.orderId = `ORD${this.digits(8)}`;
    return metadata;
  }

  /** Amounts log-uniform between 1.00 and about 5,000.00 in minor units. */
  private amount(): bigint {
    return BigInt(Math.max(1, Math.round(10 ** (2 + this.random() * 3.7))));
  }

  /** The deposit that funds a new account. */
  funding(account: BenchAccount): PlannedMovement {
    return this.plan('deposit', this.banks.get(account.currency)!, account.id, account.currency, 'completed', 5_000_000n);
  }

  /** The next movement of normal business: mostly transfers, a few deposits; a few fail or hang. */
  next(): PlannedMovement {
    const from = this.skewed(this.accounts, 1.6);
    const peers = this.byCurrency.get(from.currency)!;
    const roll = this.random();
    const outcome: Outcome = roll < 0.02 ? 'failed' : roll < 0.023 ? 'in_transit' : 'completed';
    if (this.random() < 0.05) {
      return this.plan('deposit', this.banks.get(from.currency)!, from.id, from.currency, outcome);
    }
    let to = this.skewed(peers, 2.2);
    if (to.id === from.id) to = peers[(peers.indexOf(from) + 1) % peers.length]!;
    return this.plan('transfer', from.id, to.id, from.currency, outcome);
  }

  private plan(
    kind: 'transfer' | 'deposit',
    fromAccountId: string,
    toAccountId: string,
    currency: CurrencyCode,
    outcome: Outcome,
    amount = this.amount(),
  ): PlannedMovement {
    this.clock += 1 + Math.floor(this.random() * 190_000);
    this.movements += 1;
    const at = new Date(this.clock);
    const reference = this.reference(at);
    const description = this.description(at);
    const metadata = this.metadata();
    const movement: Movement = {
      fromAccountId,
      toAccountId,
      amount,
      currency,
      reference,
      ...(description === undefined ? {} : { description }),
      ...(metadata === undefined ? {} : { metadata }),
      requestedAt: at.toISOString(),
    };
    return { id: this.nextId(), kind, movement, outcome, at: this.clock + 400 };
  }
}

interface Append {
  stream: string;
  events: EventToAppend[];
}

const encode = (type: LedgerEvent['type'], data: unknown, at: number, correlationId: string): EventToAppend =>
  ledgerCatalog.encode({
    id: randomUUID(),
    type,
    version: 1,
    data,
    metadata: { $correlationId: correlationId, actor: 'bench', occurredAt: new Date(at).toISOString() },
  } as LedgerEvent);

/** The account opened with its funding deposit. */
const openingEvents = (account: BenchAccount, at: number): EventToAppend =>
  encode(
    'AccountOpened',
    { accountId: account.id, ownerId: `owner-${account.id}`, currency: account.currency, kind: account.kind, overdraftLimit: 0n },
    at,
    `open-${account.id}`,
  );

/**
 * A movement's events by phase: first leg, then the second leg or the reversal, then the
 * outcome. A deposit's first leg credits the receiving account (the side that may refuse it).
 */
const movementEvents = (planned: PlannedMovement): [Append[], Append[], Append[]] => {
  const { id, kind, movement, outcome, at } = planned;
  const { fromAccountId, toAccountId, amount, currency } = movement;
  const correlation = `${kind}-${id}`;
  const journal = (leg: JournalRef['leg'], counterpartyAccountId: string): JournalRef => ({ id, kind, leg, counterpartyAccountId });
  const constrained = kind === 'transfer' ? fromAccountId : toAccountId;
  const other = kind === 'transfer' ? toAccountId : fromAccountId;
  const firstType = kind === 'transfer' ? 'AccountDebited' : 'AccountCredited';
  const secondType = kind === 'transfer' ? 'AccountCredited' : 'AccountDebited';
  const reversalType = kind === 'transfer' ? 'AccountCredited' : 'AccountDebited';
  const first: Append = {
    stream: accountStream(constrained),
    events: [
      encode(firstType, { accountId: constrained, journal: journal('first', other), amount, currency, movement }, at - 400, correlation),
    ],
  };
  if (outcome === 'in_transit') return [[first], [], []];
  const second: Append =
    outcome === 'completed'
      ? {
          stream: accountStream(other),
          events: [encode(secondType, { accountId: other, journal: journal('second', constrained), amount, currency }, at - 200, correlation)],
        }
      : {
          stream: accountStream(constrained),
          events: [
            encode(
              reversalType,
              { accountId: constrained, journal: journal('reversal', other), amount, currency, reason: 'counterparty account refused the posting' },
              at - 200,
              correlation,
            ),
          ],
        };
  const stream = kind === 'transfer' ? transferStream(id) : depositStream(id);
  const idField = kind === 'transfer' ? { transferId: id } : { depositId: id };
  const when = new Date(at).toISOString();
  const type =
    kind === 'transfer'
      ? outcome === 'completed' ? 'TransferCompleted' : 'TransferFailed'
      : outcome === 'completed' ? 'DepositCompleted' : 'DepositFailed';
  const data =
    outcome === 'completed'
      ? { ...movement, ...idField, completedAt: when }
      : { ...movement, ...idField, failedAt: when, reason: { type: 'account_frozen', detail: 'the counterparty account is frozen' } };
  return [[first], [second], [{ stream, events: [encode(type, data, at, correlation)] }]];
};

/** Consecutive appends to the same stream become one append. */
const merge = (appends: readonly Append[]): Append[] => {
  const merged: Append[] = [];
  const byStream = new Map<string, Append>();
  for (const append of appends) {
    const known = byStream.get(append.stream);
    if (known !== undefined) known.events.push(...append.events);
    else {
      const copy = { stream: append.stream, events: [...append.events] };
      byStream.set(append.stream, copy);
      merged.push(copy);
    }
  }
  return merged;
};

export interface WrittenLog {
  events: number;
  movements: number;
  /** By status: what the history read model must hold. */
  outcomes: Record<Outcome, number>;
  appends: number;
  seconds: number;
}

/**
 * Appends about `targetEvents` events: the accounts (opened and funded), then movements, in
 * chunks of about `eventsPerCommit` events, each chunk one transaction of the store.
 */
export const writeLedgerLog = async (
  store: EventStore,
  planner: LedgerPlanner,
  options: {
    targetEvents: number;
    eventsPerCommit: number;
    onProgress?: (events: number) => void;
    /** Called after each chunk with the log's position after it; the next chunk waits for it. */
    onCommit?: (position: bigint) => Promise<void> | void;
  },
): Promise<WrittenLog> => {
  const started = performance.now();
  const revisions = new Map<string, bigint>();
  const outcomes: Record<Outcome, number> = { completed: 0, failed: 0, in_transit: 0 };
  let events = 0;
  let appends = 0;
  let lastReport = 0;

  const commit = async (phases: Append[][]): Promise<void> => {
    const pending: Promise<{ position: bigint }>[] = [];
    for (const phase of phases) {
      for (const append of merge(phase)) {
        const expected = revisions.get(append.stream);
        const isAccount = append.stream.startsWith('account-');
        pending.push(store.appendToStream(append.stream, append.events, { expectedRevision: expected ?? 'no_stream' }));
        // Only account streams are appended to again; movement streams get one append.
        if (isAccount) revisions.set(append.stream, (expected ?? -1n) + BigInt(append.events.length));
        events += append.events.length;
        appends += 1;
      }
    }
    const written = await Promise.all(pending);
    if (options.onCommit !== undefined) await options.onCommit(written.reduce((head, { position }) => (position > head ? position : head), -1n));
    if (options.onProgress !== undefined && events - lastReport >= 100_000) {
      lastReport = events;
      options.onProgress(events);
    }
  };

  // Banks and accounts first, each account funded by a deposit.
  let clock = Date.UTC(2024, 11, 1);
  const banks: Append[] = [...planner.banks].map(([currency, id]) => ({
    stream: accountStream(id),
    events: [
      encode('AccountOpened', { accountId: id, ownerId: 'bank', currency, kind: 'system', systemRole: 'bank', overdraftLimit: 0n }, clock, 'banks'),
    ],
  }));
  await commit([banks]);
  const perChunk = Math.max(1, Math.floor(options.eventsPerCommit / 4));
  for (let start = 0; start < planner.accounts.length; start += perChunk) {
    const chunk = planner.accounts.slice(start, start + perChunk);
    const phases: [Append[], Append[], Append[], Append[]] = [[], [], [], []];
    for (const account of chunk) {
      clock += 1000;
      phases[0].push({ stream: accountStream(account.id), events: [openingEvents(account, clock)] });
      const funding = planner.funding(account);
      outcomes[funding.outcome] += 1;
      movementEvents(funding).forEach((appendsOfPhase, phase) => phases[phase + 1]!.push(...appendsOfPhase));
    }
    await commit(phases);
  }

  // Normal business until the target: about three events per movement.
  const movementsPerChunk = Math.max(1, Math.floor(options.eventsPerCommit / 3));
  while (events < options.targetEvents) {
    const phases: [Append[], Append[], Append[]] = [[], [], []];
    const chunkMovements = Math.min(movementsPerChunk, Math.ceil((options.targetEvents - events) / 3));
    for (let n = 0; n < chunkMovements; n++) {
      const planned = planner.next();
      outcomes[planned.outcome] += 1;
      movementEvents(planned).forEach((appendsOfPhase, phase) => phases[phase]!.push(...appendsOfPhase));
    }
    await commit(phases);
  }
  return { events, movements: planner.movements, outcomes, appends, seconds: (performance.now() - started) / 1000 };
};

/**
 * The history read model's document for a planned movement, as the projection would leave it
 * after its outcome: how the bench grows the search index beyond the generated log.
 */
export const transactionDocumentOf = (planned: PlannedMovement, position: bigint): TransactionDocument => {
  const { id, kind, movement, outcome, at } = planned;
  return {
    _id: id,
    id,
    type: kind,
    status: outcome,
    fromAccountId: movement.fromAccountId,
    toAccountId: movement.toAccountId,
    amount: formatMinorUnits(movement.amount),
    sortableAmount: sortableBigint(movement.amount),
    currency: movement.currency,
    reference: movement.reference ?? null,
    description: movement.description ?? null,
    metadata: movement.metadata ?? null,
    requestedAt: movement.requestedAt,
    endedAt: outcome === 'in_transit' ? null : new Date(at).toISOString(),
    failureReason: outcome === 'failed' ? { type: 'account_frozen', detail: 'the counterparty account is frozen' } : null,
    paymentId: null,
    payoutId: null,
    provider: null,
    providerRef: null,
    lastPosition: position.toString(),
    sortableLastPosition: sortableBigint(position),
  };
};
