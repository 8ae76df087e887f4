/**
 * Payouts interrupted between the provider's answer and its money, retried after they ended, and
 * waiting longer than a timer can: the provider's answer and the journals in the log decide, never
 * the deadline alone, and a payout is neither sent twice nor held twice.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  accountStream,
  ledgerCatalog,
  payoutStream,
  systemAccountId,
  StoreUnavailableError,
  type AppendOptions,
  type EventStore,
  type EventToAppend,
  type ReadAllOptions,
} from '@folio/shared';
import { createAccountCommandHandler } from '../../src/accounts/accountCommandHandler.js';
import { createPayoutCommandHandler } from '../../src/payouts/payoutCommandHandler.js';
import { PAYOUT_DEADLINE_RECOVERY_CHECKPOINT_STREAM } from '../../src/payouts/payoutDeadlineRecovery.js';
import { PAYOUT_HOLD } from '../../src/payouts/payoutService.js';
import type { PayoutSubmission, ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { payoutOnlyProvider } from './payoutOnlyProvider.js';
import { ProviderRefusedError } from '../../src/providers/providerErrors.js';
import {
  ApiServer,
  eventually,
  expectBooksBalanced,
  expectProblem,
  openTempStore,
  readAllEvents,
  uniqueKey,
  type TempStore,
} from '../api/apiHarness.js';
import { quietSandbox, requestPayout, SANDBOX_SECRET, sendCallback } from '../payments/paymentTestSupport.js';

/** `store` with the appends `failing` picks refused, as if the store were unreachable for them. */
const failingAppends = (store: EventStore, failing: (streamName: string, events: readonly EventToAppend[]) => boolean) =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) =>
          failing(streamName, events)
            ? Promise.reject(new StoreUnavailableError('the store is unreachable'))
            : target.appendToStream(streamName, events, options);
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

const DAY_MS = 24 * 3_600_000;
const BANK = systemAccountId({ role: 'bank', currency: 'EUR' });

describe('payouts interrupted or retried', () => {
  let temp: TempStore;
  let api: ApiServer | undefined;
  /** Set to make the appends it picks fail. */
  let failing: ((streamName: string, events: readonly EventToAppend[]) => boolean) | undefined;

  const startApi = async (options: Parameters<typeof ApiServer.start>[1] = {}) => {
    await api?.stop();
    api = await ApiServer.start(temp.store, {
      ...quietSandbox,
      payoutTimeoutMs: 60_000,
      eventStore: failingAppends(temp.store, (streamName, events) => failing?.(streamName, events) ?? false),
      ...options,
    });
    return api;
  };

  const paidCallback = (server: ApiServer, payout: { providerRef: string }, id = uniqueKey('evt')) =>
    sendCallback(server, {
      id,
      type: 'payout.paid',
      createdAt: new Date().toISOString(),
      data: { reference: payout.providerRef },
    });

  const payoutState = async (server: ApiServer, payoutId: string) => (await server.get(`/v1/payouts/${payoutId}`)).body;
  const payoutRequested = async () => (await readAllEvents(temp.store)).find((event) => event.type === 'PayoutRequested');
  const requestedPayoutId = async () => (await payoutRequested())!.data.payoutId as string;
  const holdsPlaced = async () => (await readAllEvents(temp.store)).filter((event) => event.type === 'AccountFundsHeld').length;

  beforeEach(() => {
    temp = openTempStore();
    failing = undefined;
  });
  afterEach(async () => {
    await api?.stop();
    api = undefined;
    await temp.dispose();
  });

  describe('when the provider reported it paid', () => {
    /** A payout whose paid callback was recorded while posting its hold failed (the account stream unreachable). */
    const paidButNotPosted = async (server: ApiServer, account: string) => {
      const payout = (await requestPayout(server, account)).body;
      const eventId = uniqueKey('evt');
      failing = (streamName) => streamName === accountStream(account);
      const first = await paidCallback(server, payout, eventId);
      failing = undefined;
      expect(first.status, first.text).to.be.at.least(500);
      expect((await payoutState(server, payout.id)).state).to.equal('SUBMITTED');
      return { payout, eventId };
    };

    const expectPaid = async (server: ApiServer, account: string, payoutId: string) => {
      expect(await payoutState(server, payoutId)).to.include({ state: 'PAID', timedOut: false, flaggedForReconciliation: false });
      expect((await server.account(account)).balance).to.deep.equal({ posted: '6000', pending: '0', available: '6000' });
      await expectBooksBalanced(temp.store);
    };

    it("posts the hold when the provider redelivers an answer whose posting failed", async () => {
      const server = await startApi();
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const { payout, eventId } = await paidButNotPosted(server, account);

      const redelivered = await paidCallback(server, payout, eventId);
      expect(redelivered.body).to.include({ outcome: 'duplicate', flaggedForReconciliation: false });
      await expectPaid(server, account, payout.id);
    });

    it('posts the hold at the deadline instead of releasing it', async () => {
      const server = await startApi({ payoutTimeoutMs: 1500 });
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const { payout } = await paidButNotPosted(server, account);

      await eventually(async () => (await payoutState(server, payout.id)).state !== 'SUBMITTED', 'the deadline');
      await expectPaid(server, account, payout.id);
    });

    it('posts the hold at a restart', async () => {
      const server = await startApi();
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const { payout } = await paidButNotPosted(server, account);

      await expectPaid(await startApi(), account, payout.id);
    });

    it('posts the hold at a restart that folds only the log after the open payouts were last checkpointed', async () => {
      const server = await startApi();
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const { payout } = await paidButNotPosted(server, account);
      // Stopped right after the answer, it checkpoints the open payouts, this one answered.
      await server.stop();
      api = undefined;
      const checkpoints = (await readAllEvents(temp.store)).filter((event) => event.type === 'OpenPayoutsCheckpointed');
      expect(checkpoints.at(-1)?.data.payouts).to.deep.equal([
        { payoutId: payout.id, deadline: payout.deadline, failed: false, released: false, answered: true },
      ]);

      /** The filters of the reads of the log from its start. */
      const wholeLogReads: unknown[] = [];
      const recording = new Proxy(temp.store, {
        get(target, property) {
          if (property === 'readAll') {
            return (options?: ReadAllOptions) => {
              if ((options?.fromPosition ?? 'start') === 'start' && options?.direction !== 'backwards') wholeLogReads.push(options?.filter);
              return target.readAll(options);
            };
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      await expectPaid(await startApi({ eventStore: recording }), account, payout.id);
      expect(JSON.stringify(wholeLogReads), 'reads of the whole log for payout events').to.not.match(/Payout/);
    });

    it('records it paid at the deadline when its journal posted but the payout was not recorded paid', async () => {
      const server = await startApi({ payoutTimeoutMs: 1500 });
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const payout = (await requestPayout(server, account)).body;
      failing = (streamName, events) =>
        streamName === `payout-${payout.id}` && events.some((event) => event.type === 'PayoutPaid');
      expect((await paidCallback(server, payout)).status).to.be.at.least(500);
      failing = undefined;
      expect((await server.account(account)).balance.posted).to.equal('6000');

      await eventually(async () => (await payoutState(server, payout.id)).state !== 'SUBMITTED', 'the deadline');
      await expectPaid(server, account, payout.id);
    });
  });

  describe('when recording its failure or releasing its hold was interrupted', () => {
    const failedCallback = (server: ApiServer, payout: { providerRef: string }) =>
      sendCallback(server, {
        id: uniqueKey('evt'),
        type: 'payout.failed',
        createdAt: new Date().toISOString(),
        data: { reference: payout.providerRef, reason: 'account_closed' },
      });
    const recordingFailureFailsOnce = () => {
      let once = true;
      failing = (streamName, events) => {
        if (!once || !streamName.startsWith('payout-') || !events.some((event) => event.type === 'PayoutFailed')) return false;
        once = false;
        return true;
      };
    };

    it('keeps the hold until the failure is recorded, fails it at a later try of the deadline and flags a late paid answer', async () => {
      const server = await startApi({ payoutTimeoutMs: 1500 });
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const payout = (await requestPayout(server, account)).body;
      recordingFailureFailsOnce();

      await eventually(async () => (await payoutState(server, payout.id)).state === 'FAILED', 'the deadline, tried again', 8000);
      expect(await payoutState(server, payout.id)).to.include({ timedOut: true });
      expect((await server.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      const late = await paidCallback(server, payout);
      expect(late.status, late.text).to.equal(200);
      expect(late.body).to.include({ outcome: 'superseded', flaggedForReconciliation: true });
      expect((await server.account(account)).balance.posted).to.equal('10000');
      await expectBooksBalanced(temp.store);
    });

    it('releases at a restart the hold of a payout recorded failed whose release was interrupted', async () => {
      const server = await startApi();
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const payout = (await requestPayout(server, account)).body;
      failing = (streamName, events) =>
        streamName === accountStream(account) && events.some((event) => event.type === 'AccountHoldReleased');
      expect((await failedCallback(server, payout)).status).to.be.at.least(500);
      failing = undefined;
      expect(await payoutState(server, payout.id)).to.include({ state: 'FAILED' });
      expect(await server.available(account)).to.equal('6000');

      const restarted = await startApi();
      expect((await restarted.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      await expectBooksBalanced(temp.store);
    });

    it('releases at its deadline the hold of a payout the provider refused whose release was interrupted, with no retry', async () => {
      const server = await startApi({
        payoutTimeoutMs: 1500,
        sandboxFaults: { ...quietSandbox.sandboxFaults, submitErrorRate: 1 },
      });
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      failing = (streamName, events) =>
        streamName === accountStream(account) && events.some((event) => event.type === 'AccountHoldReleased');
      expect((await requestPayout(server, account)).status).to.be.at.least(500);
      failing = undefined;
      const payoutId = await requestedPayoutId();
      expect(await payoutState(server, payoutId)).to.include({ state: 'FAILED', timedOut: false });
      expect(await server.available(account)).to.equal('6000');

      await eventually(async () => (await server.available(account)) === '10000', 'the hold to be released at the deadline', 8000);
      expect((await server.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      expect((await payoutState(server, payoutId)).failureReason).to.match(/declined the payout/);
      await expectBooksBalanced(temp.store);
    });

    it('fails, and flags a late paid answer for, a payout whose hold an earlier release took without recording its failure', async () => {
      const server = await startApi();
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const payout = (await requestPayout(server, account)).body;
      // What a release that wrote the hold's release before the payout's failure left behind.
      await createAccountCommandHandler(temp.store).handle(
        accountStream(account),
        { type: 'ReleaseHold', accountId: account, holdId: payout.id, reason: 'no answer from the provider before the deadline' },
        { commandId: `release-${payout.id}`, correlationId: 'interrupted', actor: 'test', now: new Date() },
      );
      const restarted = await startApi();

      const late = await paidCallback(restarted, payout);
      expect(late.status, late.text).to.equal(200);
      expect(late.body).to.include({ outcome: 'superseded', flaggedForReconciliation: true });
      expect(await payoutState(restarted, payout.id)).to.include({ state: 'FAILED', flaggedForReconciliation: true });
      expect((await restarted.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      await expectBooksBalanced(temp.store);
    });

    it('does not record it paid when the bank account refused its journal', async () => {
      const server = await startApi();
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const payout = (await requestPayout(server, account)).body;
      // The bank account refuses credits (system accounts are never frozen through the API, so its
      // stream is written to directly, and read afresh by a restart).
      await temp.store.appendToStream(
        accountStream(BANK),
        [
          ledgerCatalog.encode({
            type: 'AccountFrozen',
            id: randomUUID(),
            version: 1,
            data: { accountId: BANK },
            metadata: { $correlationId: 'test', actor: 'test', occurredAt: new Date().toISOString() },
          }),
        ],
        { expectedRevision: 'stream_exists' },
      );

      const restarted = await startApi();

      const paid = await paidCallback(restarted, payout);
      expect(paid.status, paid.text).to.equal(422);
      expect(paid.body.type).to.equal('urn:folio:problem:account-frozen');
      expect((await payoutState(restarted, payout.id)).state).to.equal('SUBMITTED');
      expect((await restarted.account(account)).balance.posted).to.equal('10000');
      await expectBooksBalanced(temp.store);
    });
  });

  describe('retried with the same idempotency key', () => {
    it('sends a payout the provider refused again, with its hold, when recording the refusal failed', async () => {
      const submitted: PayoutSubmission[] = [];
      const server = await startApi({
        sandboxProviders: [],
        providers: [
          {
            adapter: payoutOnlyProvider(async (submission) => {
              submitted.push(submission);
              if (submitted.length === 1) throw new ProviderRefusedError('temporarily declined');
              return { providerRef: `po_${submission.payoutId}` };
            }),
            secret: SANDBOX_SECRET,
          },
        ],
      });
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const key = uniqueKey('payout');
      let once = true;
      failing = (streamName, events) => {
        if (!once || !streamName.startsWith('payout-') || !events.some((event) => event.type === 'PayoutFailed')) return false;
        once = false;
        return true;
      };
      expect((await requestPayout(server, account, key)).status).to.be.at.least(500);
      expect(await server.available(account)).to.equal('6000');

      const retried = await requestPayout(server, account, key);
      expect(retried.status, retried.text).to.equal(201);
      expect(retried.body.state).to.equal('SUBMITTED');
      expect(submitted).to.have.length(2);
      expect(await server.available(account)).to.equal('6000');
      expect((await paidCallback(server, retried.body)).body.outcome).to.equal('applied');
      expect((await server.account(account)).balance).to.deep.equal({ posted: '6000', pending: '0', available: '6000' });
      expect(await holdsPlaced()).to.equal(1);
      await expectBooksBalanced(temp.store);
    });

    it('does not send a payout that failed at its deadline to the provider again', async () => {
      const submitted: PayoutSubmission[] = [];
      const withAdapter = (submitPayout: ProviderAdapter['submitPayout']) => ({
        sandboxProviders: [],
        providers: [{ adapter: payoutOnlyProvider(submitPayout), secret: SANDBOX_SECRET }],
        payoutTimeoutMs: 300,
      });
      // The first process dies while it asks the provider.
      const crashing = await startApi(withAdapter(() => new Promise(() => {})));
      const account = await crashing.openFundedAccount('10000', { kind: 'merchant' });
      const key = uniqueKey('payout');
      const first = requestPayout(crashing, account, key).catch(() => undefined);
      await eventually(async () => (await payoutRequested()) !== undefined, 'the payout to be requested');
      const payoutId = await requestedPayoutId();
      const restarted = await startApi(
        withAdapter(async (submission) => {
          submitted.push(submission);
          return { providerRef: `po_${submission.payoutId}` };
        }),
      );
      await first;
      await eventually(async () => (await payoutState(restarted, payoutId)).state === 'FAILED', 'the deadline');

      const retried = await requestPayout(restarted, account, key);
      expect(retried.status, retried.text).to.equal(201);
      expect(retried.body).to.include({ id: payoutId, state: 'FAILED', timedOut: true });
      expect(submitted).to.deep.equal([]);
      expect((await restarted.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
    });

    it('does not hold the amount again for a payout that ended, however many commands the account took since', async () => {
      const server = await startApi();
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const key = uniqueKey('payout');
      // The payout is requested, but the answer to the request is lost.
      failing = (streamName, events) =>
        streamName.startsWith('idempotency-') && events.some((event) => /Completed/.test(event.type));
      expect((await requestPayout(server, account, key)).status).to.be.at.least(500);
      failing = undefined;
      const payout = await payoutState(server, await requestedPayoutId());
      expect((await paidCallback(server, payout)).body.outcome).to.equal('applied');
      // More commands on the account than its stream remembers command ids of.
      const accounts = createAccountCommandHandler(temp.store);
      for (let i = 0; i < 258; i++) {
        await accounts.handle(
          accountStream(account),
          i % 2 === 0 ? { type: 'FreezeAccount', accountId: account } : { type: 'UnfreezeAccount', accountId: account },
          { commandId: `busy-${i}`, correlationId: 'busy', actor: 'test', now: new Date() },
        );
      }
      const restarted = await startApi();

      const retried = await requestPayout(restarted, account, key);
      expect(retried.status, retried.text).to.equal(201);
      expect(retried.body).to.include({ id: payout.id, state: 'PAID' });
      expect(await holdsPlaced()).to.equal(1);
      expect((await restarted.account(account)).balance).to.deep.equal({ posted: '6000', pending: '0', available: '6000' });
      await expectBooksBalanced(temp.store);
    });

    it('answers a payout whose hold a restart released before it was requested as failed, without holding or sending it', async () => {
      const submitted: PayoutSubmission[] = [];
      const adapter = payoutOnlyProvider(async (submission) => {
        submitted.push(submission);
        return { providerRef: `po_${submission.payoutId}` };
      });
      const options = { sandboxProviders: [], providers: [{ adapter, secret: SANDBOX_SECRET }] };
      const server = await startApi(options);
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const key = uniqueKey('payout');
      failing = (streamName) => streamName.startsWith('payout-');
      expect((await requestPayout(server, account, key)).status).to.be.at.least(500);
      failing = undefined;
      const restarted = await startApi(options);
      expect(await restarted.available(account)).to.equal('10000');

      const retried = await requestPayout(restarted, account, key);
      expect(retried.status, retried.text).to.equal(201);
      expect(retried.body).to.include({ state: 'FAILED', failureReason: 'the payout was interrupted before the provider was asked' });
      expect(submitted).to.deep.equal([]);
      expect(await holdsPlaced()).to.equal(1);
      expect((await restarted.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      await expectBooksBalanced(temp.store);
    });

    it('releases at a restart the hold of a request that failed to record its payout, past a checkpoint of the earlier version that lacks it', async () => {
      const server = await startApi();
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      failing = (streamName) => streamName.startsWith('payout-');
      expect((await requestPayout(server, account)).status).to.be.at.least(500);
      failing = undefined;
      await server.stop();
      api = undefined;
      // What a build before version 2 could have written: no hold of an unrecorded request, no answers.
      const head = (await temp.store.headPosition())!;
      await temp.store.appendToStream(PAYOUT_DEADLINE_RECOVERY_CHECKPOINT_STREAM, [
        {
          id: randomUUID(),
          type: 'OpenPayoutsCheckpointed',
          data: { position: head.toString(), payouts: [] },
          metadata: { $correlationId: 'payout-deadline-recovery', actor: 'folio:payout-deadline-recovery', occurredAt: new Date().toISOString(), schemaVersion: 1 },
        },
      ]);
      const restarted = await startApi();
      expect(await restarted.available(account)).to.equal('10000');
      await expectBooksBalanced(temp.store);
    });

    it('releases at a restart the hold a retry placed again after a restart released the first, whose release it was taken for', async () => {
      const server = await startApi();
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const payoutId = '7300000000000000888';
      const accounts = createAccountCommandHandler(temp.store);
      const payouts = createPayoutCommandHandler(temp.store);
      const context = (commandId: string) => ({ commandId, correlationId: 'interrupted', actor: 'test', now: new Date() });
      const reason = 'the payout was interrupted before the provider was asked';
      const hold = { type: 'PlaceHold', accountId: account, holdId: payoutId, amount: 4_000n, currency: 'EUR', purpose: PAYOUT_HOLD } as const;
      const release = { type: 'ReleaseHold', accountId: account, holdId: payoutId, reason } as const;
      // What a restart abandoning the payout and a retry of its request racing with it left behind.
      await accounts.handle(accountStream(account), hold, context(`hold-${payoutId}`));
      await payouts.handle(
        payoutStream(payoutId),
        { type: 'AbandonPayout', payoutId, accountId: account, reason, at: new Date().toISOString() },
        context(`abandon-${payoutId}`),
      );
      await accounts.handle(accountStream(account), release, context(`release-${payoutId}`));
      await accounts.handle(accountStream(account), hold, context(`hold-${payoutId}-7300000000000000999`));
      const at = new Date().toISOString();
      const request = { accountId: account, amount: 4_000n, currency: 'EUR', provider: 'sandbox', destination: 'DE89370400440532013000' } as const;
      await payouts.handle(payoutStream(payoutId), { type: 'RequestPayout', payoutId, ...request, at, deadline: at }, context(`request-${payoutId}`));
      // The release of the second hold, taken for a repeat of the first one's.
      expect(await accounts.handle(accountStream(account), release, context(`release-${payoutId}`))).to.include({ replayed: true });
      expect(await server.available(account)).to.equal('6000');

      const restarted = await startApi();
      expect((await restarted.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      expect(await payoutState(restarted, payoutId)).to.include({ state: 'FAILED', failureReason: reason });
      await expectBooksBalanced(temp.store);
    });
  });

  describe('when the provider could not be reached', () => {
    /** A provider whose first payout call fails in transit (it may have taken the payout), the rest answer. */
    const unreachableOnce = () => {
      const submitted: PayoutSubmission[] = [];
      const adapter = payoutOnlyProvider(async (submission) => {
        submitted.push(submission);
        if (submitted.length === 1) throw new Error('socket hang up');
        return { providerRef: `po_${submission.payoutId}` };
      });
      return { submitted, options: { sandboxProviders: [], providers: [{ adapter, secret: SANDBOX_SECRET }] } };
    };

    /** The first request, answered 502 with the payout kept open and its amount still held. */
    const unanswered = async (server: ApiServer, account: string, key = uniqueKey('payout')) => {
      expectProblem(await requestPayout(server, account, key), 502, 'provider-unavailable');
      const payoutId = await requestedPayoutId();
      expect(await payoutState(server, payoutId)).to.include({ state: 'PENDING', timedOut: false });
      expect((await server.account(account)).balance).to.deep.equal({ posted: '10000', pending: '-4000', available: '6000' });
      return payoutId;
    };

    const answer = (server: ApiServer, type: 'payout.paid' | 'payout.failed', payoutId: string) =>
      sendCallback(server, {
        id: uniqueKey('evt'),
        type,
        createdAt: new Date().toISOString(),
        data: { reference: `po_${payoutId}`, folioId: payoutId, ...(type === 'payout.failed' ? { reason: 'account_closed' } : {}) },
      });

    it('keeps the hold and, retried with the same key, sends the same payout again and posts it once', async () => {
      const { submitted, options } = unreachableOnce();
      const server = await startApi(options);
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const key = uniqueKey('payout');
      const payoutId = await unanswered(server, account, key);

      const retried = await requestPayout(server, account, key);
      expect(retried.status, retried.text).to.equal(201);
      expect(retried.body).to.include({ id: payoutId, state: 'SUBMITTED', providerRef: `po_${payoutId}` });
      expect(submitted.map((submission) => submission.payoutId)).to.deep.equal([payoutId, payoutId]);
      expect(await holdsPlaced()).to.equal(1);
      expect((await paidCallback(server, retried.body)).body.outcome).to.equal('applied');
      expect(await payoutState(server, payoutId)).to.include({ state: 'PAID', flaggedForReconciliation: false });
      expect((await server.account(account)).balance).to.deep.equal({ posted: '6000', pending: '0', available: '6000' });
      await expectBooksBalanced(temp.store);
    });

    it("posts the hold once when the provider's paid answer comes without a retry", async () => {
      const { options } = unreachableOnce();
      const server = await startApi(options);
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const payoutId = await unanswered(server, account);

      const paid = await answer(server, 'payout.paid', payoutId);
      expect(paid.body, paid.text).to.include({ resource: 'payout', outcome: 'applied', flaggedForReconciliation: false });
      expect(await payoutState(server, payoutId)).to.include({ state: 'PAID', flaggedForReconciliation: false });
      expect((await server.account(account)).balance).to.deep.equal({ posted: '6000', pending: '0', available: '6000' });
      await expectBooksBalanced(temp.store);
    });

    it("releases the hold on the provider's failed answer", async () => {
      const { options } = unreachableOnce();
      const server = await startApi(options);
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const payoutId = await unanswered(server, account);

      expect((await answer(server, 'payout.failed', payoutId)).body.outcome).to.equal('applied');
      expect(await payoutState(server, payoutId)).to.include({ state: 'FAILED', failureReason: 'account_closed', timedOut: false });
      expect((await server.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      await expectBooksBalanced(temp.store);
    });

    it('releases the hold at the deadline without an answer', async () => {
      const { options } = unreachableOnce();
      const server = await startApi({ ...options, payoutTimeoutMs: 1500 });
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const payoutId = await unanswered(server, account);

      await eventually(async () => (await payoutState(server, payoutId)).state === 'FAILED', 'the deadline');
      expect(await payoutState(server, payoutId)).to.include({ timedOut: true });
      expect((await server.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      await expectBooksBalanced(temp.store);
    });
  });

  describe('with a deadline further away than a timer can wait', () => {
    it('keeps the payout waiting instead of failing it at once', async () => {
      const server = await startApi({ payoutTimeoutMs: 30 * DAY_MS });
      const account = await server.openFundedAccount('10000', { kind: 'merchant' });
      const payout = (await requestPayout(server, account)).body;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await payoutState(server, payout.id)).state).to.equal('SUBMITTED');
      expect(await server.available(account)).to.equal('6000');
    });
  });
});
