import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { createOpenJournals, decodeRecoveryCheckpoint, RECOVERY_CHECKPOINT_STREAM } from '@folio/command-side';
import { collect, openSqliteEventStore } from '@folio/shared';
import { killHard, standaloneMain, startFolioProcess, within, type Exit, type FolioProcess } from '../../soak/folioProcess.js';
import { call, mustCall, type Answer } from '../../soak/httpCall.js';
import { readBooks, transferOutcomeProblems, type Books } from '../../soak/ledgerBooks.js';
import { seededRandom } from '../../soak/seededRandom.js';

/**
 * Acceptance of the write API: "the server is killed with SIGKILL during a transfer load and
 * restarted; every acknowledged transfer ends completed or compensated; no duplicates; every
 * invariant of DESIGN holds."
 *
 * One scenario (in `before`) drives the real `npm start` process through several SIGKILLs and
 * restarts on one data directory and records what it saw; each `it` then judges one promise.
 */

const KILLS = 3;
const IN_FLIGHT = 32;
const MIN_ACKS_BEFORE_KILL = 100;
const MAX_REQUESTS_PER_CYCLE = 5_000;
const ACCOUNT_COUNT = 10;
const INITIAL_DEPOSIT = 20_000n;
const START_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 10_000;
const LOAD_TIMEOUT_MS = 20_000;
const SETTLE_TIMEOUT_MS = 5_000;
const REPLAY_SAMPLE = 40;

const INSUFFICIENT_FUNDS = 'urn:folio:problem:insufficient-funds';
const IN_PROGRESS = 'urn:folio:problem:idempotent-request-in-progress';

/** Seeded, so a failing run can be repeated with FOLIO_CRASH_SEED. */
const seed = Number(process.env.FOLIO_CRASH_SEED ?? Date.now() % 2 ** 31);
const { next: random, between, pick } = seededRandom(seed);

/**
 * Every recovery checkpoint in the log, each compared with the open journals folded from the start
 * of the log up to its position: a start from any of them sees what a start from scratch sees.
 */
const recoveryCheckpointsOf = async (dataDir: string): Promise<{ count: number; mismatches: string[] }> => {
  const store = openSqliteEventStore({ path: join(dataDir, 'events.sqlite'), readonly: true });
  try {
    const events = await collect(store.readAll());
    const checkpoints = events.filter((event) => event.streamName === RECOVERY_CHECKPOINT_STREAM).map(decodeRecoveryCheckpoint);
    const mismatches: string[] = [];
    for (const checkpoint of checkpoints) {
      const journals = createOpenJournals();
      for (const event of events) if (event.position <= checkpoint.position) journals.apply(event);
      const expected = JSON.stringify(journals.list(), (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
      const found = JSON.stringify(checkpoint.journals, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
      if (expected !== found) mismatches.push(`checkpoint at ${checkpoint.position}: ${found}, the log says ${expected}`);
    }
    return { count: checkpoints.length, mismatches };
  } finally {
    await store.close();
  }
};

const startFolio = (dataDir: string): Promise<FolioProcess> => startFolioProcess(dataDir, { startTimeoutMs: START_TIMEOUT_MS });

interface TransferBody {
  fromAccountId: string;
  toAccountId: string;
  amount: string;
  currency: 'USD';
  reference: string;
}

interface Sent {
  key: string;
  body: TransferBody;
}

interface Acknowledged extends Sent {
  status: number;
  answer: any;
  /** Answered only when re-sent after the restart that followed the kill. */
  afterRestart: boolean;
}

/** What the scenario saw; the `it`s below judge it. */
interface Observations {
  accounts: string[];
  frozen: string;
  sent: Map<string, Sent>;
  acknowledged: Acknowledged[];
  /** Answers during the load that no account state explains (5xx, unexpected problem types). */
  unexpectedAnswers: string[];
  /** Requests that failed while the server was not being killed. */
  lostWhileAlive: string[];
  restarts: { openJournalsInLog: number; violations: string[]; serverInTransit: number }[];
  replayMismatches: string[];
  replaysChecked: number;
  /** Cut off by a kill, re-sent after the restart, and still not answered definitively. */
  stillInProgress: Sent[];
  cutOff: number;
  finalBalances: Map<string, { posted: bigint; status: string }>;
  books?: Books;
  recoveryCheckpoints?: { count: number; mismatches: string[] };
  sigtermExit?: Exit;
  acksPerCycle: number[];
}

describe('crash: SIGKILL during a transfer load, then restart (npm start on the embedded store)', function () {
  this.timeout(55_000);

  const dataDir = join(mkdtempSync(join(tmpdir(), 'folio-transfer-crash-')), 'data');
  const runId = `${seed.toString(36)}`;
  let folio: FolioProcess | undefined;
  const seen: Observations = {
    accounts: [],
    frozen: '',
    sent: new Map(),
    acknowledged: [],
    unexpectedAnswers: [],
    lostWhileAlive: [],
    restarts: [],
    replayMismatches: [],
    replaysChecked: 0,
    stillInProgress: [],
    cutOff: 0,
    finalBalances: new Map(),
    acksPerCycle: [],
  };

  /** Checks an answer against what the accounts allow: the load only meets these outcomes. */
  const judge = (sent: Sent, answer: Answer): string | undefined => {
    const toFrozen = sent.body.toAccountId === seen.frozen;
    if (answer.status === 201) {
      const expected = toFrozen ? 'failed' : 'completed';
      if (answer.body?.status !== expected) return `${sent.key}: 201 with status ${answer.body?.status}, expected ${expected}`;
      if (toFrozen && answer.body?.failureReason?.type !== 'account-frozen') {
        return `${sent.key}: failed for ${JSON.stringify(answer.body?.failureReason)}, expected account-frozen`;
      }
      return undefined;
    }
    if (answer.status === 422 && answer.body?.type === INSUFFICIENT_FUNDS) return undefined;
    return `${sent.key}: ${answer.status} ${JSON.stringify(answer.body)}`;
  };

  const spendable = () => seen.accounts.filter((id) => id !== seen.frozen);

  const nextTransfer = (cycle: number, index: number): Sent => {
    const key = `crash-${runId}-c${cycle}-t${index}`;
    const fromAccountId = pick(spendable());
    // Some go to the frozen account (debit, refused credit, reversal: compensation).
    const toAccountId = random() < 0.12 ? seen.frozen : pick(spendable().filter((id) => id !== fromAccountId));
    // Some ask for more than any account holds (insufficient funds).
    const amount = random() < 0.1 ? between(40_000, 90_000) : between(1, 2_500);
    const sent = { key, body: { fromAccountId, toAccountId, amount: String(amount), currency: 'USD' as const, reference: key } };
    seen.sent.set(key, sent);
    return sent;
  };

  const acknowledge = (sent: Sent, answer: Answer, afterRestart: boolean) => {
    const problem = judge(sent, answer);
    if (problem !== undefined) seen.unexpectedAnswers.push(problem);
    seen.acknowledged.push({ ...sent, status: answer.status, answer: answer.body, afterRestart });
  };

  /** Runs the load and SIGKILLs the server at a random moment after enough acknowledgements. */
  const loadThenKill = async (running: FolioProcess, cycle: number): Promise<Sent[]> => {
    const killAfter = MIN_ACKS_BEFORE_KILL + between(0, 150);
    const cutOff: Sent[] = [];
    let acks = 0;
    let issued = 0;
    let killed = false;
    let killing: Promise<void> | undefined;
    const kill = () => {
      killed = true;
      killing = killHard(running);
    };
    const worker = async () => {
      while (!killed && issued < MAX_REQUESTS_PER_CYCLE) {
        const sent = nextTransfer(cycle, issued++);
        let answer: Answer;
        try {
          answer = await call(running.base, 'POST', '/v1/transfers', { body: sent.body, key: sent.key });
        } catch (error) {
          if (!killed) seen.lostWhileAlive.push(`${sent.key}: ${String(error)}`);
          cutOff.push(sent);
          continue;
        }
        acknowledge(sent, answer, false);
        acks++;
        // A random delay past the threshold, so the kill lands anywhere in a request's life.
        if (acks === killAfter) setTimeout(kill, between(0, 15));
      }
    };
    await within(Promise.all(Array.from({ length: IN_FLIGHT }, worker)), LOAD_TIMEOUT_MS, 'the transfer load');
    if (!killed) kill();
    await killing;
    seen.acksPerCycle.push(acks);
    return cutOff;
  };

  /** After a restart: nothing left open, old answers replay, cut-off requests get answered. */
  const checkRestart = async (running: FolioProcess, cutOff: Sent[]) => {
    // Recovery runs before the server listens, so the log has no open journal by now.
    const books = await readBooks(dataDir);
    const restart = { openJournalsInLog: books.report.openJournals, violations: books.report.violations, serverInTransit: -1 };
    seen.restarts.push(restart);
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const inTransit = await mustCall(running.base, 'GET', '/v1/operations/in-transit');
      restart.serverInTransit = inTransit.movements.length;
      if (restart.serverInTransit === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const definite = seen.acknowledged.filter((ack) => ack.status !== 409);
    const sample = Array.from({ length: Math.min(REPLAY_SAMPLE, definite.length) }, () => pick(definite));
    await Promise.all(
      sample.map(async (ack) => {
        const again = await call(running.base, 'POST', '/v1/transfers', { body: ack.body, key: ack.key });
        seen.replaysChecked++;
        if (again.status !== ack.status || JSON.stringify(again.body) !== JSON.stringify(ack.answer) || !again.replayed) {
          seen.replayMismatches.push(
            `${ack.key}: first ${ack.status} ${JSON.stringify(ack.answer)}; again ${again.status} ` +
              `(replayed: ${again.replayed}) ${JSON.stringify(again.body)}`,
          );
        }
      }),
    );

    seen.cutOff += cutOff.length;
    await Promise.all(
      cutOff.map(async (sent) => {
        const answer = await call(running.base, 'POST', '/v1/transfers', { body: sent.body, key: sent.key });
        if (answer.status === 409 && answer.body?.type === IN_PROGRESS) seen.stillInProgress.push(sent);
        else acknowledge(sent, answer, true);
      }),
    );
  };

  before(async function () {
    if (!existsSync(standaloneMain)) throw new Error(`${standaloneMain} is missing: build the standalone project first`);
    folio = await startFolio(dataDir);
    const base = folio.base;
    for (let i = 0; i < ACCOUNT_COUNT; i++) {
      const account = await mustCall(base, 'POST', '/v1/accounts', {
        body: {
          ownerId: `crash-owner-${i}`,
          currency: 'USD',
          kind: 'customer',
          // A few may go below zero, down to their limit.
          ...(i % 4 === 1 ? { overdraftLimit: '3000' } : {}),
        },
      });
      seen.accounts.push(account.id);
      await mustCall(base, 'POST', '/v1/deposits', {
        body: { accountId: account.id, amount: INITIAL_DEPOSIT.toString(), currency: 'USD', reference: `seed-${i}` },
        key: `crash-${runId}-deposit-${i}`,
      });
    }
    seen.frozen = seen.accounts[ACCOUNT_COUNT - 1]!;
    await mustCall(base, 'POST', `/v1/accounts/${seen.frozen}/freeze`, { body: { reason: 'crash test: refuses credits' } });

    for (let cycle = 0; cycle < KILLS; cycle++) {
      const cutOff = await loadThenKill(folio, cycle);
      folio = await startFolio(dataDir);
      await checkRestart(folio, cutOff);
    }

    for (const id of seen.accounts) {
      const account = await mustCall(folio.base, 'GET', `/v1/accounts/${id}`);
      seen.finalBalances.set(id, { posted: BigInt(account.balance.posted), status: account.status });
    }
    seen.books = await readBooks(dataDir);
    const stopping = folio;
    folio = undefined;
    stopping.child.kill('SIGTERM');
    seen.sigtermExit = await within(stopping.exit, EXIT_TIMEOUT_MS, 'folio to stop on SIGTERM');
    seen.recoveryCheckpoints = await recoveryCheckpointsOf(dataDir);
  });

  after(async () => {
    if (folio !== undefined) await killHard(folio).catch(() => undefined);
    rmSync(dirname(dataDir), { recursive: true, force: true });
  });

  const context = () =>
    `(seed ${seed}; acknowledgements per cycle ${seen.acksPerCycle.join(', ')}; cut off ${seen.cutOff})`;

  it(`was killed ${KILLS} times mid-load, each time after at least ${MIN_ACKS_BEFORE_KILL} acknowledgements`, () => {
    expect(seen.acksPerCycle, context()).to.have.length(KILLS);
    for (const acks of seen.acksPerCycle) expect(acks, context()).to.be.at.least(MIN_ACKS_BEFORE_KILL);
    expect(seen.lostWhileAlive, 'requests lost while the server was up').to.deep.equal([]);
  });

  it('answers every transfer 201 completed, 201 failed (frozen destination) or 422 insufficient funds', () => {
    expect(seen.unexpectedAnswers, context()).to.deep.equal([]);
    const statuses = new Set(
      seen.acknowledged.map((ack) => `${ack.status}:${ack.status === 201 ? ack.answer?.status : ack.answer?.type}`),
    );
    // The load must really have exercised completion, compensation and refusal.
    expect([...statuses].sort(), context()).to.include.members(['201:completed', '201:failed', `422:${INSUFFICIENT_FUNDS}`]);
  });

  it('comes back after every SIGKILL with every interrupted movement finished before it listens', () => {
    expect(seen.restarts, context()).to.have.length(KILLS);
    for (const [index, restart] of seen.restarts.entries()) {
      expect(restart.openJournalsInLog, `open journals in the log after restart ${index + 1}`).to.equal(0);
      expect(restart.violations, `violations after restart ${index + 1}`).to.deep.equal([]);
      expect(restart.serverInTransit, `movements the server still reports in transit after restart ${index + 1}`).to.equal(0);
    }
  });

  it('replays acknowledged answers identically, with Idempotent-Replayed: true, after each restart', () => {
    expect(seen.replaysChecked, context()).to.be.greaterThan(0);
    expect(seen.replayMismatches, context()).to.deep.equal([]);
  });

  it('answers definitively a request cut off by the kill when it is re-sent after the restart', () => {
    // The process that claimed its key is dead; "in progress" can only be a stale claim.
    expect(seen.cutOff, context()).to.be.greaterThan(0);
    const keys = seen.stillInProgress.map((sent) => sent.key);
    expect(
      keys.length,
      `${keys.length} of ${seen.cutOff} cut-off requests re-sent after the restart were answered 409 ` +
        `idempotent-request-in-progress (e.g. ${keys.slice(0, 3).join(', ')}) ${context()}`,
    ).to.equal(0);
  });

  it('keeps invariant 6 after every kill: every hash chain and signed checkpoint of the log verifies', () => {
    const { integrity } = seen.books!;
    expect(integrity.problems, context()).to.deep.equal([]);
    expect(integrity.unchainedEvents).to.equal(0);
    expect(integrity.chainedEvents).to.be.greaterThan(0);
  });

  it('keeps invariants 1–3 over the whole log: balanced journals, Σ balances + in transit = 0, no overdraft', () => {
    const { report } = seen.books!;
    expect(report.violations, context()).to.deep.equal([]);
    expect(report.openJournals, 'journals left open').to.equal(0);
    for (const [currency, amount] of report.inTransit) expect(amount, `${currency} in transit`).to.equal(0n);
    expect(report.completedJournals).to.be.greaterThan(0);
  });

  it('ends every acknowledged transfer exactly once (completed or compensated) and never duplicates a request', () => {
    const problems = transferOutcomeProblems(seen.books!, new Set(seen.sent.keys()), seen.acknowledged);
    expect(problems, context()).to.deep.equal([]);
  });

  it('serves the balances the log adds up to, and money moved only by completed movements', () => {
    const { report, balancesFromOutcomes } = seen.books!;
    for (const id of seen.accounts) {
      const served = seen.finalBalances.get(id)!;
      expect(served.posted, `GET /v1/accounts/${id} vs the log`).to.equal(report.balances.get(id)?.balance);
      expect(served.posted, `account ${id} vs completed movements`).to.equal(balancesFromOutcomes.get(id) ?? 0n);
    }
    expect(seen.finalBalances.get(seen.frozen)?.status).to.equal('frozen');
    expect(seen.finalBalances.get(seen.frozen)?.posted).to.equal(INITIAL_DEPOSIT);
  });

  it('checkpoints movement recovery after every start and on stop, each checkpoint true to the log up to its position', () => {
    // Every start checkpoints at its first event once caught up, and the final stop once more.
    expect(seen.recoveryCheckpoints!.count, context()).to.be.at.least(KILLS + 2);
    expect(seen.recoveryCheckpoints!.mismatches, context()).to.deep.equal([]);
  });

  it('stops cleanly on SIGTERM after the last restart', () => {
    expect(seen.sigtermExit).to.deep.equal({ code: 0, signal: null });
  });
});
