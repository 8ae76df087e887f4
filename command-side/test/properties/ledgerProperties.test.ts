import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import express from 'express';
import fc from 'fast-check';
import {
  checkLedger,
  collect,
  correlationId,
  ledgerCatalog,
  notFoundHandler,
  openSqliteEventStore,
  problemDetailsHandler,
  systemAccountId,
  type LedgerEvent,
} from '@folio/shared';
import { createWriteApi } from '../../src/writeApi.js';

/**
 * Acceptance of the write API: "random sequences of commands (including retries and concurrent
 * ones) keep invariants 1–4 of DESIGN". Each run opens the write API over real HTTP on a fresh
 * SQLite log, drives it with a random sequence, and checks the answers against a model of the
 * accounts, then the whole log against the invariants.
 */

const ACCOUNTS = 3;
const CURRENCY = 'EUR';
const PROBLEM = 'urn:folio:problem:';
const OUTCOME_TYPE = /^(Transfer|Deposit)(Completed|Failed)$/;

type AccountRef = number;

type Leaf =
  | { kind: 'deposit'; account: AccountRef; amount: bigint }
  | { kind: 'transfer'; from: AccountRef; offset: number; amount: bigint }
  | { kind: 'freeze'; account: AccountRef }
  | { kind: 'unfreeze'; account: AccountRef }
  /** Re-sends an earlier request (same key, same body). */
  | { kind: 'retry'; pick: number }
  /** Re-uses an earlier money request's key with another amount. */
  | { kind: 'misuse'; pick: number; extra: bigint };

/** Fired together with `Promise.all`; `copies` > 1 sends the same request (same key) several times at once. */
type Concurrent = { kind: 'concurrent'; commands: { command: Leaf; copies: number }[] };

type Step = Leaf | Concurrent;

const accountRef = fc.integer({ min: 0, max: ACCOUNTS - 1 });
// Mostly affordable, sometimes far above any balance.
const amount = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 1n, max: 2_000n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 2_001n, max: 50_000n }) },
);
const deposit = fc.record({ kind: fc.constant('deposit' as const), account: accountRef, amount: fc.bigInt({ min: 1n, max: 5_000n }) });
const transfer = fc.record({
  kind: fc.constant('transfer' as const),
  from: accountRef,
  offset: fc.integer({ min: 1, max: ACCOUNTS - 1 }),
  amount,
});
const freeze = fc.record({ kind: fc.constant('freeze' as const), account: accountRef });
const unfreeze = fc.record({ kind: fc.constant('unfreeze' as const), account: accountRef });
const retry = fc.record({ kind: fc.constant('retry' as const), pick: fc.nat() });
const misuse = fc.record({ kind: fc.constant('misuse' as const), pick: fc.nat(), extra: fc.bigInt({ min: 1n, max: 100n }) });

const leaf: fc.Arbitrary<Leaf> = fc.oneof(
  { weight: 4, arbitrary: deposit },
  { weight: 6, arbitrary: transfer },
  { weight: 1, arbitrary: freeze },
  { weight: 1, arbitrary: unfreeze },
  { weight: 2, arbitrary: retry },
  { weight: 1, arbitrary: misuse },
);
const concurrent: fc.Arbitrary<Concurrent> = fc.record({
  kind: fc.constant('concurrent' as const),
  commands: fc.array(
    fc.record({
      command: fc.oneof(
        { weight: 3, arbitrary: deposit },
        { weight: 6, arbitrary: transfer },
        { weight: 1, arbitrary: freeze },
        { weight: 1, arbitrary: unfreeze },
        { weight: 2, arbitrary: retry },
      ),
      copies: fc.integer({ min: 1, max: 3 }),
    }),
    { minLength: 2, maxLength: 6 },
  ),
});
const scenario = fc.record({
  limits: fc.array(fc.constantFrom(0n, 0n, 500n, 3_000n), { minLength: ACCOUNTS, maxLength: ACCOUNTS }),
  steps: fc.array(fc.oneof({ weight: 5, arbitrary: leaf }, { weight: 2, arbitrary: concurrent }), {
    minLength: 4,
    maxLength: 24,
  }),
});

interface Answer {
  status: number;
  body: any;
  replayed: boolean;
}

interface Folio {
  base: string;
  eventStore: ReturnType<typeof openSqliteEventStore>;
  errors: unknown[];
}

/** The write API as `npm start` mounts it, on its own log, for one run. */
const withFolio = async <T>(work: (folio: Folio) => Promise<T>): Promise<T> => {
  const directory = mkdtempSync(join(tmpdir(), 'folio-props-'));
  const eventStore = openSqliteEventStore({ path: join(directory, 'events.sqlite') });
  const errors: unknown[] = [];
  const writeApi = createWriteApi({
    eventStore,
    nodeId: 7,
    onError: (error) => errors.push(error),
    onStuck: () => undefined,
  });
  let server: Server | undefined;
  try {
    await writeApi.start();
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use(correlationId());
    app.use(writeApi.router);
    app.use(notFoundHandler());
    app.use(problemDetailsHandler({ onUnexpectedError: (error) => errors.push(error) }));
    server = await new Promise<Server>((resolve, reject) => {
      const started = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(started)));
    });
    const { port } = server.address() as AddressInfo;
    return await work({ base: `http://127.0.0.1:${port}`, eventStore, errors });
  } finally {
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    await writeApi.stop();
    await eventStore.close();
    rmSync(directory, { recursive: true, force: true });
  }
};

const call = async (base: string, method: string, path: string, body?: unknown, key?: string): Promise<Answer> => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(key === undefined ? {} : { 'Idempotency-Key': key }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? undefined : JSON.parse(text),
    replayed: response.headers.get('Idempotent-Replayed') === 'true',
  };
};

interface Sent {
  kind: 'deposit' | 'transfer' | 'freeze' | 'unfreeze';
  path: string;
  body: Record<string, unknown>;
  key: string;
}

interface Answered extends Sent {
  answer: Answer;
}

interface ModelAccount {
  id: string;
  limit: bigint;
  balance: bigint;
  frozen: boolean;
}

const problemType = (answer: Answer): string | undefined =>
  typeof answer.body?.type === 'string' && answer.body.type.startsWith(PROBLEM) ? answer.body.type.slice(PROBLEM.length) : undefined;

const describeAnswer = (answer: Answer) => `${answer.status} ${JSON.stringify(answer.body)}`;

/** What the runs exercised, summed over all runs: a property that never met a case proves nothing about it. */
const exercised = {
  completed: 0,
  compensated: 0,
  insufficientFunds: 0,
  frozenRefusals: 0,
  replays: 0,
  concurrentCopies: 0,
  keyMisuses: 0,
};

let keyCounter = 0;
const freshKey = (kind: string) => `props-${process.pid}-${++keyCounter}-${kind}`;

/** One run: the model follows the answers, and every answer the model can predict is checked. */
const runScenario = async (folio: Folio, limits: bigint[], steps: Step[]): Promise<void> => {
  const accounts: ModelAccount[] = [];
  for (const [index, limit] of limits.entries()) {
    const opened = await call(folio.base, 'POST', '/v1/accounts', {
      ownerId: `owner-${index}`,
      currency: CURRENCY,
      kind: 'customer',
      overdraftLimit: limit.toString(),
    });
    expect(opened.status, describeAnswer(opened)).to.equal(201);
    accounts.push({ id: opened.body.id, limit, balance: 0n, frozen: false });
  }
  const history: Answered[] = [];
  /** Key → id of the deposit or transfer it made (201 answers only). */
  const madeBy = new Map<string, string>();
  let depositedTotal = 0n;

  const toSend = (command: Exclude<Leaf, { kind: 'retry' | 'misuse' }>): Sent => {
    switch (command.kind) {
      case 'deposit': {
        const key = freshKey('deposit');
        const body = { accountId: accounts[command.account]!.id, amount: command.amount.toString(), currency: CURRENCY, reference: key };
        return { kind: 'deposit', path: '/v1/deposits', body, key };
      }
      case 'transfer': {
        const key = freshKey('transfer');
        const body = {
          fromAccountId: accounts[command.from]!.id,
          toAccountId: accounts[(command.from + command.offset) % ACCOUNTS]!.id,
          amount: command.amount.toString(),
          currency: CURRENCY,
          reference: key,
        };
        return { kind: 'transfer', path: '/v1/transfers', body, key };
      }
      case 'freeze':
      case 'unfreeze':
        return {
          kind: command.kind,
          path: `/v1/accounts/${accounts[command.account]!.id}/${command.kind}`,
          body: {},
          key: freshKey(command.kind),
        };
    }
  };

  const accountById = (id: unknown) => accounts.find((account) => account.id === id)!;

  /** What a sequential request must get, from the model alone. */
  const predict = (sent: Sent): { status: number; type?: string; outcome?: string; available?: bigint } => {
    switch (sent.kind) {
      case 'deposit':
        return accountById(sent.body.accountId).frozen ? { status: 409, type: 'account-frozen' } : { status: 201, outcome: 'completed' };
      case 'transfer': {
        const from = accountById(sent.body.fromAccountId);
        const to = accountById(sent.body.toAccountId);
        const available = from.balance + from.limit;
        if (from.frozen) return { status: 409, type: 'account-frozen' };
        if (available < BigInt(sent.body.amount as string)) return { status: 422, type: 'insufficient-funds', available };
        return { status: 201, outcome: to.frozen ? 'failed' : 'completed' };
      }
      case 'freeze': {
        const account = accountById(sent.path.split('/')[3]);
        return account.frozen ? { status: 409, type: 'account-frozen' } : { status: 200 };
      }
      case 'unfreeze': {
        const account = accountById(sent.path.split('/')[3]);
        return account.frozen ? { status: 200 } : { status: 409, type: 'illegal-account-transition' };
      }
    }
  };

  /** Moves the model by what an answer says happened; refuses answers nothing could explain. */
  const apply = (sent: Sent, answer: Answer): void => {
    const what = `${sent.kind} ${JSON.stringify(sent.body)} → ${describeAnswer(answer)}`;
    const type = problemType(answer);
    switch (sent.kind) {
      case 'deposit':
        if (answer.status === 201) {
          expect(answer.body.status, what).to.equal('completed');
          accountById(sent.body.accountId).balance += BigInt(sent.body.amount as string);
          depositedTotal += BigInt(sent.body.amount as string);
        } else expect(`${answer.status} ${type}`, what).to.equal('409 account-frozen');
        break;
      case 'transfer':
        if (answer.status === 201) {
          if (answer.body.status === 'completed') {
            accountById(sent.body.fromAccountId).balance -= BigInt(sent.body.amount as string);
            accountById(sent.body.toAccountId).balance += BigInt(sent.body.amount as string);
          } else {
            expect(answer.body.status, what).to.equal('failed');
            expect(answer.body.failureReason?.type, what).to.equal('account-frozen');
          }
        } else expect(['409 account-frozen', '422 insufficient-funds'], what).to.include(`${answer.status} ${type}`);
        break;
      case 'freeze':
      case 'unfreeze': {
        const account = accountById(sent.path.split('/')[3]);
        if (answer.status === 200) {
          account.frozen = sent.kind === 'freeze';
          expect(answer.body.status, what).to.equal(sent.kind === 'freeze' ? 'frozen' : 'active');
        } else expect(answer.status, what).to.equal(409);
        break;
      }
    }
    if (answer.status === 201 && sent.kind === 'transfer') {
      if (answer.body.status === 'completed') exercised.completed++;
      else exercised.compensated++;
    }
    if (type === 'insufficient-funds') exercised.insufficientFunds++;
    if (type === 'account-frozen' && (sent.kind === 'deposit' || sent.kind === 'transfer')) exercised.frozenRefusals++;
    if (answer.status === 201) {
      expect(madeBy.has(sent.key), `${what}: key answered 201 twice`).to.equal(false);
      madeBy.set(sent.key, answer.body.id);
    }
  };

  const send = (sent: Sent) => call(folio.base, 'POST', sent.path, sent.body, sent.key);

  /** A retry must get the original answer back, marked as a replay, and change nothing. */
  const checkReplay = (original: Answered, again: Answer) => {
    const what = `retry of ${original.key}: first ${describeAnswer(original.answer)}, again ${describeAnswer(again)}`;
    expect(again.status, what).to.equal(original.answer.status);
    expect(again.body, what).to.deep.equal(original.answer.body);
    expect(again.replayed, what).to.equal(true);
  };

  /** Copies of one request sent at once: one execution, the same answer for all. */
  const sendCopies = async (sent: Sent, copies: number): Promise<Answer> => {
    const answers = await Promise.all(Array.from({ length: copies }, () => send(sent)));
    if (copies > 1) exercised.concurrentCopies++;
    const first = answers[0]!;
    for (const other of answers.slice(1)) {
      expect(`${other.status} ${JSON.stringify(other.body)}`, `copies of ${sent.key}`).to.equal(
        `${first.status} ${JSON.stringify(first.body)}`,
      );
    }
    expect(answers.filter((answer) => !answer.replayed).length, `copies of ${sent.key}: executions`).to.be.at.most(1);
    return first;
  };

  const runLeaf = async (command: Leaf, copies: number, sequential: boolean): Promise<void> => {
    if (command.kind === 'retry') {
      if (history.length === 0) return;
      const original = history[command.pick % history.length]!;
      const answers = await Promise.all(Array.from({ length: copies }, () => send(original)));
      for (const again of answers) checkReplay(original, again);
      exercised.replays += answers.length;
      return;
    }
    if (command.kind === 'misuse') {
      const money = history.filter((answered) => answered.kind === 'deposit' || answered.kind === 'transfer');
      if (money.length === 0) return;
      const original = money[command.pick % money.length]!;
      const body = { ...original.body, amount: (BigInt(original.body.amount as string) + command.extra).toString() };
      const answer = await send({ ...original, body });
      expect(`${answer.status} ${problemType(answer)}`, describeAnswer(answer)).to.equal('422 idempotency-key-reused');
      exercised.keyMisuses++;
      return;
    }
    const sent = toSend(command);
    const expected = sequential ? predict(sent) : undefined;
    const answer = await sendCopies(sent, copies);
    if (expected !== undefined) {
      const what = `${sent.kind} ${JSON.stringify(sent.body)} → ${describeAnswer(answer)}`;
      expect(answer.status, what).to.equal(expected.status);
      if (expected.type !== undefined) expect(problemType(answer), what).to.equal(expected.type);
      if (expected.outcome !== undefined) expect(answer.body.status, what).to.equal(expected.outcome);
      if (expected.available !== undefined) expect(answer.body.available, what).to.equal(expected.available.toString());
    }
    apply(sent, answer);
    history.push({ ...sent, answer });
  };

  /** The API's view of every account must be the model's. */
  const compareAccounts = async (syncStatus: boolean) => {
    for (const account of accounts) {
      const served = await call(folio.base, 'GET', `/v1/accounts/${account.id}`);
      expect(served.status).to.equal(200);
      // Which of racing freezes and unfreezes came last only the server knows.
      if (syncStatus) account.frozen = served.body.status === 'frozen';
      expect(served.body.status, `status of ${account.id}`).to.equal(account.frozen ? 'frozen' : 'active');
      expect(served.body.balance.posted, `posted balance of ${account.id}`).to.equal(account.balance.toString());
      expect(served.body.balance.available, `available balance of ${account.id}`).to.equal((account.balance + account.limit).toString());
    }
  };

  for (const step of steps) {
    if (step.kind === 'concurrent') {
      // Retries in a group replay what was answered before it, never a sibling.
      await Promise.all(step.commands.map(({ command, copies }) => runLeaf(command, copies, false)));
      await compareAccounts(true);
    } else {
      await runLeaf(step, 1, true);
    }
  }
  await compareAccounts(false);

  // Invariants 1–3 over the whole log, checked at every position by `checkLedger`.
  const events = await collect(folio.eventStore.readAll());
  const report = checkLedger(events);
  expect(report.violations).to.deep.equal([]);
  expect(report.openJournals, 'journals still open after every answer').to.equal(0);
  for (const [currency, inTransit] of report.inTransit) expect(inTransit, `${currency} in transit`).to.equal(0n);
  for (const account of accounts) expect(report.balances.get(account.id)?.balance, `log balance of ${account.id}`).to.equal(account.balance);
  expect(report.balances.get(systemAccountId({ role: 'bank', currency: CURRENCY }))?.balance ?? 0n, 'bank account').to.equal(
    -depositedTotal,
  );

  // Invariant 4: one effect per key. Every journal in the log belongs to exactly one key answered
  // 201, and has exactly one outcome; a rejected key left nothing.
  const outcomes = new Map<string, number>();
  const journals = new Set<string>();
  for (const recorded of events) {
    if (!(ledgerCatalog.types as readonly string[]).includes(recorded.type)) continue;
    const event = ledgerCatalog.decode(recorded) as LedgerEvent;
    if ((event.type === 'AccountDebited' || event.type === 'AccountCredited') && event.data.journal.leg === 'first') {
      journals.add(event.data.journal.id);
    }
    // Any outcome type of a movement stream counts, whatever kinds of outcome the catalog grows.
    if (OUTCOME_TYPE.test(recorded.type)) {
      const { transferId, depositId } = recorded.data as { transferId?: string; depositId?: string };
      const ended = transferId ?? depositId ?? `(no id at ${recorded.position})`;
      outcomes.set(ended, (outcomes.get(ended) ?? 0) + 1);
    }
  }
  const answeredIds = [...madeBy.values()];
  expect(new Set(answeredIds).size, 'distinct ids of distinct keys').to.equal(answeredIds.length);
  expect([...journals].sort(), 'journals in the log vs keys answered 201').to.deep.equal([...answeredIds].sort());
  for (const id of answeredIds) expect(outcomes.get(id), `outcomes of ${id}`).to.equal(1);
  expect(outcomes.size, 'outcomes in the log').to.equal(answeredIds.length);

  expect(folio.errors.map(String), 'errors the write side reported').to.deep.equal([]);
};

describe('properties: random command sequences keep invariants 1–4 of DESIGN (HTTP, SQLite)', function () {
  // Room for shrinking a counterexample; a passing run takes a few seconds.
  this.timeout(180_000);

  it('deposits, transfers, freezes, retries and concurrent groups leave the books balanced and every key applied once', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, ({ limits, steps }) => withFolio((folio) => runScenario(folio, limits, steps))),
      { numRuns: 25 },
    );
    for (const [what, count] of Object.entries(exercised)) {
      expect(count, `times the runs exercised ${what} (${JSON.stringify(exercised)})`).to.be.greaterThan(0);
    }
  });
});
