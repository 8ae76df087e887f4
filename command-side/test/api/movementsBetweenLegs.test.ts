/**
 * Movements interrupted between their two legs and then retried with the same Idempotency-Key:
 * what the caller is told, what the log records, and how recovery ends them.
 */
import { expect } from 'chai';
import {
  accountStream,
  MAX_MINOR_UNITS,
  systemAccountId,
  StoreUnavailableError,
  type AppendOptions,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
} from '@folio/shared';
import {
  createApiHarness,
  eventually,
  expectBooksBalanced,
  expectProblem,
  failingAppendsTo,
  readAllEvents,
  uniqueKey,
  type ApiHarness,
  type ApiServer,
} from './apiHarness.js';

/**
 * `store` refusing, as if it were down, every credit to the account `failing()` names; the
 * account's other appends (a freeze) go through.
 */
const failingCreditsTo = (store: EventStore, failing: () => string | undefined): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) => {
          const account = failing();
          const refused =
            account !== undefined &&
            streamName === accountStream(account) &&
            events.some((event) => event.type === 'AccountCredited');
          return refused
            ? Promise.reject(new StoreUnavailableError('the store is unreachable'))
            : target.appendToStream(streamName, events, options);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

type PostingData = { journal?: { id: string; leg: string }; movement?: { requestedAt: string } };

/** The first leg of journal `id`, and the request time its movement carries. */
const firstLegOf = (events: RecordedEvent[], id: string) => {
  const leg = events.find((event) => {
    const { journal } = event.data as PostingData;
    return journal?.id === id && journal.leg === 'first';
  })!;
  return { position: leg.position, requestedAt: (leg.data as PostingData).movement!.requestedAt };
};

const postingsOf = (events: RecordedEvent[], accountId: string, journalId: string) =>
  events
    .filter((event) => event.streamName === accountStream(accountId))
    .map((event) => event.data as PostingData)
    .filter((data) => data.journal?.id === journalId)
    .map((data) => data.journal!.leg);

const inTransitIds = async (api: ApiServer): Promise<string[]> =>
  (await api.get('/v1/operations/in-transit')).body.movements.map((movement: { id: string }) => movement.id);

describe('write API over HTTP: movements between their legs', () => {
  describe('a reversal the source cannot take back yet', () => {
    let harness: ApiHarness;
    let api: ApiServer;
    const failing: { credits: string | undefined } = { credits: undefined };

    before(async () => {
      harness = await createApiHarness({ stuckAfterMs: 50 }, (store) => failingCreditsTo(store, () => failing.credits));
      api = harness.api;
    });
    after(() => harness.close());

    it('answers 503 movement-incomplete (never a remembered 422), and recovery compensates it once, when there is room', async () => {
      // Available counts the overdraft: the source is at the bound with 1000 less on it.
      const from = await api.openFundedAccount((MAX_MINOR_UNITS - 1000n).toString(), { overdraftLimit: '1000' });
      const to = (await api.openAccount()).id as string;
      const spare = (await api.openAccount()).id as string;
      const key = uniqueKey('reversal-at-bound');

      // The debit is posted, the credit cannot be: 50 in transit.
      failing.credits = to;
      expectProblem(await api.transfer(from, to, '50', { key }), 503, 'store-unavailable');
      await eventually(async () => (await inTransitIds(api)).length === 1, 'the transfer in transit');
      const [transferId] = await inTransitIds(api);
      // Meanwhile the source is filled to the bound again, and the destination is frozen.
      expect((await api.deposit(from, '50')).status).to.equal(201);
      expect((await api.post(`/v1/accounts/${to}/freeze`, {})).status).to.equal(200);

      // The destination refuses the credit, and the reversal would take the source past the bound.
      const retried = await api.transfer(from, to, '50', { key });
      const problem = expectProblem(retried, 503, 'movement-incomplete');
      expect(problem).to.include({ kind: 'transfer', id: transferId });
      expect(retried.headers['retry-after']).to.equal('1');
      // Not remembered: the next retry runs again rather than replaying an answer.
      const again = await api.transfer(from, to, '50', { key });
      expectProblem(again, 503, 'movement-incomplete');
      expect(again.headers['idempotent-replayed']).to.equal(undefined);
      expect(await inTransitIds(api)).to.deep.equal([transferId]);

      // Room on the source: recovery resumes the movement and reverses the debit, once.
      expect((await api.transfer(from, spare, '50')).body.status).to.equal('completed');
      await eventually(async () => (await inTransitIds(api)).length === 0, 'the movement to end');
      failing.credits = undefined;

      const outcome = await api.transfer(from, to, '50', { key });
      expect(outcome.status, outcome.text).to.equal(201);
      expect(outcome.body).to.include({ id: transferId, status: 'failed' });
      expect(outcome.body.failureReason.type).to.equal('account-frozen');
      expect((await api.get(`/v1/transfers/${transferId}`)).body).to.deep.equal(outcome.body);
      const events = await readAllEvents(harness.store);
      expect(postingsOf(events, from, transferId!)).to.deep.equal(['first', 'reversal']);
      expect(postingsOf(events, to, transferId!)).to.deep.equal([]);
      expect(events.filter((event) => event.streamName === `transfer-${transferId}`).map((event) => event.type)).to.deep.equal([
        'TransferFailed',
      ]);
      expect((await api.account(from)).balance).to.include({
        posted: (MAX_MINOR_UNITS - 1000n).toString(),
        available: MAX_MINOR_UNITS.toString(),
      });
      await expectBooksBalanced(harness.store);
    });
  });

  describe('retried after a 503 between the legs', () => {
    let harness: ApiHarness;
    let api: ApiServer;
    let offsetMs = 0;
    const failing: { stream: string | undefined } = { stream: undefined };

    before(async () => {
      harness = await createApiHarness({ clock: () => new Date(Date.now() + offsetMs) }, (store) =>
        failingAppendsTo(store, () => failing.stream),
      );
      api = harness.api;
    });
    after(() => harness.close());

    it('a transfer keeps the request time of its first leg, in the log and in every answer', async () => {
      const from = await api.openFundedAccount('1000');
      const to = (await api.openAccount()).id as string;
      const key = uniqueKey('transfer-retried');
      failing.stream = accountStream(to);
      expectProblem(await api.transfer(from, to, '100', { key }), 503, 'store-unavailable');
      failing.stream = undefined;
      offsetMs += 60_000;

      const retried = await api.transfer(from, to, '100', { key });
      expect(retried.status, retried.text).to.equal(201);
      expect(retried.body.status).to.equal('completed');
      const events = await readAllEvents(harness.store);
      const { requestedAt } = firstLegOf(events, retried.body.id);
      const outcome = events.find((event) => event.type === 'TransferCompleted' && (event.data as { transferId: string }).transferId === retried.body.id)!;
      expect((outcome.data as { requestedAt: string }).requestedAt).to.equal(requestedAt);
      expect(retried.body.requestedAt).to.equal(requestedAt);
      expect((await api.get(`/v1/transfers/${retried.body.id}`)).body.requestedAt).to.equal(requestedAt);
      expect((await api.transfer(from, to, '100', { key })).body.requestedAt).to.equal(requestedAt);
    });

    it('a deposit shows in_transit between its legs, then keeps the request time of its first leg', async () => {
      const account = (await api.openAccount()).id as string;
      const key = uniqueKey('deposit-retried');
      failing.stream = accountStream(systemAccountId({ role: 'bank', currency: 'EUR' }));
      expectProblem(await api.deposit(account, '500', 'EUR', key), 503, 'store-unavailable');
      await eventually(async () => (await inTransitIds(api)).length === 1, 'the deposit in transit');
      const [depositId] = await inTransitIds(api);
      const firstLeg = firstLegOf(await readAllEvents(harness.store), depositId!);
      const { requestedAt } = firstLeg;

      const between = await api.get(`/v1/deposits/${depositId}`);
      expect(between.status, between.text).to.equal(200);
      expect(between.body).to.deep.equal({
        id: depositId,
        status: 'in_transit',
        accountId: account,
        amount: '500',
        currency: 'EUR',
        reference: `deposit ${key}`,
        requestedAt,
        inTransit: '-500',
        position: firstLeg.position.toString(),
      });

      failing.stream = undefined;
      offsetMs += 60_000;
      const retried = await api.deposit(account, '500', 'EUR', key);
      expect(retried.status, retried.text).to.equal(201);
      expect(retried.body).to.include({ id: depositId, status: 'completed', requestedAt });
      const outcome = (await readAllEvents(harness.store)).find(
        (event) => event.type === 'DepositCompleted' && (event.data as { depositId: string }).depositId === depositId,
      )!;
      expect((outcome.data as { requestedAt: string }).requestedAt).to.equal(requestedAt);
      expect((await api.get(`/v1/deposits/${depositId}`)).body).to.deep.equal(retried.body);
      expect((await api.account(account)).balance.posted).to.equal('500');
      await expectBooksBalanced(harness.store);
    });
  });
});
