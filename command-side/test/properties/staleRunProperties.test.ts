import { expect } from 'chai';
import fc from 'fast-check';
import { accountStream, type EventStore } from '@folio/shared';
import { DEFAULT_STALE_AFTER_MS, idempotencyStreamName } from '../../src/idempotency/index.js';
import { eventually, ledgerEvents, readAllEvents, uniqueKey, type ApiResponse } from '../api/apiHarness.js';
import {
  CALLER,
  completionOf,
  DESTINATION,
  expectBooksRight,
  holdAppends,
  readsOfAfter,
  SOURCE,
  startTwoInstances,
  transferRoutes,
  type Answer,
} from '../concurrency/twoInstances.js';
import { deferred } from '../idempotency/testSupport.js';
import { openCustomer, startProcess } from '../movements/movementScenario.js';

/**
 * A run of a transfer under one key stalls on one write-side process (a VM pause, a long GC, a
 * partition) while the clock moves on, the source's funds change and the other process may retry
 * the key: whatever the interleaving, the key ends up answering what the books show, its transfer's
 * journal posted once if and only if it answers 201.
 */

/** Where another transfer spends the source's funds. */
const SINK = '7300000000000009003';
const LEASE_MS = DEFAULT_STALE_AFTER_MS / 2;

const CLOCK_ADVANCES = {
  'advance the clock within the lease': LEASE_MS / 2,
  'advance the clock past the lease, short of staleness': (LEASE_MS + DEFAULT_STALE_AFTER_MS) / 2,
  'advance the clock past staleness': DEFAULT_STALE_AFTER_MS + LEASE_MS / 2,
};
type ClockAdvance = keyof typeof CLOCK_ADVANCES;
const RETRY_ON_B = 'B retries the key';
const DEPOSIT = 'deposit 1000 into the source';
const SPEND = 'another transfer takes 800 from the source';
type Step = ClockAdvance | typeof RETRY_ON_B | typeof DEPOSIT | typeof SPEND;

const STALLS = ['before reading the source', 'before recording its answer'] as const;

/** Steps at the same moment keep this order: the clock first, then B, then the funds. */
const timed = (step: fc.Arbitrary<Step>) => fc.record({ step, at: fc.integer({ min: 0, max: 2 }) });
const scenario = fc
  .record({
    route: fc.constantFrom(...Object.keys(transferRoutes)),
    stall: fc.constantFrom(...STALLS),
    // Weighted towards what lets the two runs decide differently: an empty source, a takeover.
    fundedBefore: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    advance: timed(
      fc.oneof(
        { weight: 1, arbitrary: fc.constant<ClockAdvance>('advance the clock within the lease') },
        { weight: 1, arbitrary: fc.constant<ClockAdvance>('advance the clock past the lease, short of staleness') },
        { weight: 2, arbitrary: fc.constant<ClockAdvance>('advance the clock past staleness') },
      ),
    ),
    retry: fc.option(timed(fc.constant(RETRY_ON_B)), { nil: undefined }),
    changes: fc.array(timed(fc.oneof({ weight: 2, arbitrary: fc.constant(DEPOSIT) }, { weight: 1, arbitrary: fc.constant(SPEND) })), {
      minLength: 1,
      maxLength: 2,
    }),
    replayOn: fc.constantFrom('a' as const, 'b' as const),
  })
  .map(({ route, stall, fundedBefore, advance, retry, changes, replayOn }) => ({
    route,
    stall,
    fundedBefore,
    // Stable: ties keep the order above.
    whileStalled: [advance, ...(retry === undefined ? [] : [retry]), ...changes].sort((x, y) => x.at - y.at).map(({ step }) => step),
    replayOn,
  }));
type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

/** The answer to the transfer in a response of either route, whether the request as a whole went through or not. */
const itemAnswerOf = (response: ApiResponse): Answer =>
  Array.isArray(response.body?.results) ? (response.body.results[0] as Answer) : response;

/** Legs of transfers from the source to the destination: only the key's transfer goes there. */
const legsOfTheTransfer = async (store: EventStore) => {
  const events = await ledgerEvents(store);
  const legs = (type: string, accountId: string, leg: string, counterparty: string) =>
    events.filter((event) => {
      const data = event.data as { accountId?: string; journal?: { kind: string; leg: string; counterpartyAccountId?: string } };
      return (
        event.type === type &&
        data.accountId === accountId &&
        data.journal?.kind === 'transfer' &&
        data.journal.leg === leg &&
        data.journal.counterpartyAccountId === counterparty
      );
    }).length;
  return { first: legs('AccountDebited', SOURCE, 'first', DESTINATION), second: legs('AccountCredited', DESTINATION, 'second', SOURCE) };
};

const runScenario = async ({ route: routeName, stall, fundedBefore, whileStalled, replayOn }: Scenario): Promise<void> => {
  const route = transferRoutes[routeName]!;
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  const key = uniqueKey('stale-run');
  const sourceRead = deferred();
  if (stall !== 'before reading the source') sourceRead.resolve();
  const recording = holdAppends((call) => stall === 'before recording its answer' && completionOf(key)(call));
  const instances = await startTwoInstances({
    api: { clock },
    prepare: async (store) => {
      const { accounts } = startProcess(store);
      for (const account of [SOURCE, DESTINATION, SINK]) await openCustomer(accounts, account);
    },
    wrap: { a: (store) => recording.wrap(readsOfAfter(store, accountStream(SOURCE), sourceRead.promise)) },
  });
  const { a, b, store } = instances;
  let answeringA: Promise<ApiResponse> | undefined;
  try {
    if (fundedBefore) expect((await b.deposit(SOURCE, '1000')).status).to.equal(201);
    answeringA = route.send(a, key);
    if (stall === 'before reading the source') {
      const claimed = async () => (await readAllEvents(store)).some((event) => event.streamName === idempotencyStreamName(CALLER, key));
      await eventually(claimed, 'the claim of A');
    } else {
      const held = await Promise.race([recording.reached.then(() => 'held'), answeringA.then((response) => `answered ${response.text}`)]);
      expect(held, 'A stalls before recording its answer').to.equal('held');
    }

    const answersSeen: Answer[] = [];
    for (const step of whileStalled) {
      if (step === RETRY_ON_B) answersSeen.push(itemAnswerOf(await route.send(b, key)));
      else if (step === DEPOSIT) expect((await b.deposit(SOURCE, '1000')).status).to.equal(201);
      else if (step === SPEND) expect([201, 422]).to.include((await b.transfer(SOURCE, SINK, '800')).status);
      else offsetMs += CLOCK_ADVANCES[step];
    }
    sourceRead.resolve();
    recording.release();
    answersSeen.push(itemAnswerOf(await answeringA));

    // Neither run may have answered for good (a run past its lease, one refused as in progress): retries converge.
    const replayer = replayOn === 'a' ? a : b;
    let replay = await route.send(replayer, key);
    for (let retries = 0; replay.headers['idempotent-replayed'] !== 'true' && retries < 3; retries++) {
      answersSeen.push(itemAnswerOf(replay));
      replay = await route.send(replayer, key);
    }
    expect(replay.headers['idempotent-replayed'], `the key is answered for good: ${replay.text}`).to.equal('true');
    const answer = route.answerOf(replay);
    expect([201, 422], JSON.stringify(answer.body)).to.include(answer.status);
    if (answer.status === 422) expect(answer.body.type).to.equal('urn:folio:problem:insufficient-funds');

    const legs = await legsOfTheTransfer(store);
    expect(legs, `the journal of a key answering ${answer.status}`).to.deep.equal(answer.status === 201 ? { first: 1, second: 1 } : { first: 0, second: 0 });
    const finalAnswers = answersSeen.filter(({ status }) => status === 201 || status === 422).map(({ status }) => status);
    expect(finalAnswers, 'every final answer a caller saw is the key answer').to.deep.equal(finalAnswers.map(() => answer.status));
    await expectBooksRight(store);
  } finally {
    sourceRead.resolve();
    recording.release();
    await answeringA?.catch(() => undefined);
    await instances.close();
  }
};

describe('properties: a transfer whose run stalled while its key was retried elsewhere answers what the books show', function () {
  this.timeout(60_000);

  it('any stall, clock advance, change of funds and retry on the other process: the key answers 201 iff its journal was posted once', async () => {
    await fc.assert(fc.asyncProperty(scenario, runScenario), { numRuns: 200 });
  });
});
