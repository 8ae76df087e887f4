/**
 * A run of an idempotent request that stalls on one write-side process past its claim's staleness
 * (a VM pause, a long GC, a partition) while the other process takes the claim over and runs the
 * request again, with the accounts changed in between: whatever each run decided, the key's answer
 * must agree with the books, its transfer's journal posted if and only if it answers 201.
 */
import { expect } from 'chai';
import { accountStream, type EventStore, type JsonValue } from '@folio/shared';
import { DEFAULT_STALE_AFTER_MS, idempotencyStreamName } from '../../src/idempotency/index.js';
import { expectProblem, eventually, ledgerEvents, readAllEvents, uniqueKey, type ApiResponse, type ApiServer } from '../api/apiHarness.js';
import type { AppendCall } from '../commandHandling/testSupport.js';
import { deferred } from '../idempotency/testSupport.js';
import { openCustomer, startProcess } from '../movements/movementScenario.js';
import { expectBooksRight, holdAppends, readsOfAfter, startTwoInstances, type TwoInstances } from './twoInstances.js';

const SOURCE = '7300000000000009001';
const DESTINATION = '7300000000000009002';
/** Callers are not authenticated yet: every request is this caller's. */
const CALLER = 'anonymous';

interface Answer {
  status: number;
  body: any;
}

/** The transfer asked for, alone or as the only item of a batch, and how to read its own answer. */
const routes: Record<string, { send: (api: ApiServer, key: string) => Promise<ApiResponse>; answerOf: (response: ApiResponse) => Answer }> = {
  'a transfer': {
    send: (api, key) => api.transfer(SOURCE, DESTINATION, '500', { key }),
    answerOf: (response) => response,
  },
  'a batch item': {
    send: (api, key) =>
      api.post('/v1/transfers/batch', { transfers: [{ fromAccountId: SOURCE, toAccountId: DESTINATION, amount: '500', currency: 'EUR' }] }, { key }),
    answerOf: (response) => {
      expect(response.status, response.text).to.equal(200);
      return response.body.results[0] as Answer;
    },
  },
};

/** Debits of the source by transfers: one per transfer whose journal was posted. */
const transfersPosted = async (store: EventStore): Promise<number> =>
  (await ledgerEvents(store)).filter((event) => {
    const data = event.data as { accountId?: string; journal?: { kind: string; leg: string } };
    return event.type === 'AccountDebited' && data.accountId === SOURCE && data.journal?.kind === 'transfer' && data.journal.leg === 'first';
  }).length;

describe('a run of an idempotent request stalled past its claim while another process took the claim over', () => {
  let offsetMs: number;
  const clock = () => new Date(Date.now() + offsetMs);
  let instances: TwoInstances | undefined;

  const start = (wrap: { a?: (store: EventStore) => EventStore; b?: (store: EventStore) => EventStore }) =>
    startTwoInstances({
      api: { clock },
      prepare: async (store) => {
        const { accounts } = startProcess(store);
        await openCustomer(accounts, SOURCE);
        await openCustomer(accounts, DESTINATION);
      },
      wrap,
    });

  beforeEach(() => {
    offsetMs = 0;
    instances = undefined;
  });

  afterEach(async () => {
    await instances?.close();
  });

  /** The key answers, replayed, what the books show; a request under a new key runs as ever. */
  const expectKeyAgreesWithBooks = async (route: (typeof routes)[string], key: string, expected: number) => {
    const { a, b, store } = instances!;
    const replay = await route.send(b, key);
    expect(replay.headers['idempotent-replayed'], replay.text).to.equal('true');
    const answer = route.answerOf(replay);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(expected);
    expect(await transfersPosted(store)).to.equal(answer.status === 201 ? 1 : 0);

    const fresh = route.answerOf(await route.send(a, uniqueKey('fresh')));
    expect(fresh.status, JSON.stringify(fresh.body)).to.equal(201);
    expect(await transfersPosted(store)).to.equal(answer.status === 201 ? 2 : 1);
    await expectBooksRight(store);
  };

  for (const [name, route] of Object.entries(routes)) {
    it(`${name}: a refusal decided before the stall is not recorded over the takeover that moved the money`, async () => {
      const key = uniqueKey('stale-refusal');
      const completionOfKey = (call: AppendCall) =>
        call.streamName === idempotencyStreamName(CALLER, key) && call.events.some((event) => event.type === 'IdempotentRequestCompleted');
      const aRecording = holdAppends(completionOfKey);
      const bRecording = holdAppends(completionOfKey);
      instances = await start({ a: aRecording.wrap, b: bRecording.wrap });
      const { a, b } = instances;

      const answeringA = route.send(a, key);
      // A found the source empty (nothing written) and stalls before recording its answer.
      await aRecording.reached;
      expect((await b.deposit(SOURCE, '1000')).status).to.equal(201);
      offsetMs += DEFAULT_STALE_AFTER_MS;
      const answeringB = route.send(b, key);
      // B took the stale claim over and moved the money; it has not recorded its answer yet.
      await bRecording.reached;
      aRecording.release();
      const stalled = await answeringA;
      bRecording.release();
      const takeover = await answeringB;

      expectProblem(stalled, 409, 'idempotent-request-in-progress');
      expect(stalled.headers['retry-after']).to.equal('1');
      expect(route.answerOf(takeover).status, takeover.text).to.equal(201);
      await expectKeyAgreesWithBooks(route, key, 201);
    });

    it(`${name}: a run stalled before moving the money moves none after the takeover refused it`, async () => {
      const key = uniqueKey('stale-transfer');
      const sourceRead = deferred();
      // A stops before it looks at the source, past the claim of the key and before any leg.
      instances = await start({ a: (store) => readsOfAfter(store, accountStream(SOURCE), sourceRead.promise) });
      const { a, b, store } = instances;

      const answeringA = route.send(a, key);
      const claimed = async () => (await readAllEvents(store)).some((event) => event.streamName === idempotencyStreamName(CALLER, key));
      await eventually(claimed, 'the claim of A');
      offsetMs += DEFAULT_STALE_AFTER_MS;
      const refused = route.answerOf(await route.send(b, key));
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.type).to.equal('urn:folio:problem:insufficient-funds');
      // The money arrives before A goes on: the source would afford the transfer now.
      expect((await b.deposit(SOURCE, '1000')).status).to.equal(201);
      sourceRead.resolve();
      const stalled = await answeringA;

      expect(stalled.status, stalled.text).to.equal(503);
      expect(stalled.headers['retry-after']).to.equal('1');
      const expired = name === 'a transfer' ? stalled.body : (stalled.body.results as { body: JsonValue }[])[0]!.body;
      expect(expired).to.deep.include({ type: 'urn:folio:problem:idempotency-claim-expired', status: 503 });
      await expectKeyAgreesWithBooks(route, key, 422);
    });
  }
});
