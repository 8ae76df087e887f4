/**
 * The provider's `payout.failed` reaching one instance while the payout's deadline passes on the
 * other: the payout fails as the provider said, and the answer is acknowledged.
 */
import { expect } from 'chai';
import type { EventStore } from '@folio/shared';
import { eventually, uniqueKey } from '../api/apiHarness.js';
import type { AppendCall } from '../commandHandling/testSupport.js';
import { expectBooksRight, holdAppends, startTwoInstances, type TwoInstances } from '../concurrency/twoInstances.js';
import { quietSandbox, requestPayout, sendCallback } from '../payments/paymentTestSupport.js';

const failureAppended = (call: AppendCall) =>
  call.streamName.startsWith('payout-') && call.events.some((event) => event.type === 'PayoutFailed');

describe('a failed answer racing the deadline on two instances', () => {
  let instances: TwoInstances | undefined;
  afterEach(async () => {
    await instances?.close();
    instances = undefined;
  });

  it('fails the payout for the provider\'s reason, not timed out, and answers the provider 200', async () => {
    const deadlineFailure = holdAppends(failureAppended);
    const answerRecorded = holdAppends(
      (call) => call.streamName.startsWith('payout-') && call.events.some((event) => event.type === 'PayoutCallbackRecorded'),
    );
    const answerFailure = holdAppends(failureAppended);
    instances = await startTwoInstances({
      api: { ...quietSandbox, payoutTimeoutMs: 300 },
      wrap: { a: (store: EventStore) => deadlineFailure.wrap(store), b: (store: EventStore) => answerFailure.wrap(answerRecorded.wrap(store)) },
    });
    const { a, b } = instances;
    const account = await a.openFundedAccount('10000', { kind: 'merchant' });
    const payout = (await requestPayout(a, account)).body as { id: string; providerRef: string };

    const answered = sendCallback(b, {
      id: uniqueKey('evt'),
      type: 'payout.failed',
      createdAt: new Date().toISOString(),
      data: { reference: payout.providerRef, reason: 'account_closed' },
    });
    // A's deadline judges the payout before B records the answer; B then stops before recording the failure.
    await Promise.all([deadlineFailure.reached, answerRecorded.reached]);
    answerRecorded.release();
    await answerFailure.reached;
    deadlineFailure.release();
    await eventually(async () => (await a.account(account)).balance.pending === '0', "the deadline's release");
    answerFailure.release();
    const answer = await answered;

    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body).to.include({ outcome: 'applied' });
    for (const server of [a, b]) {
      expect((await server.get(`/v1/payouts/${payout.id}`)).body).to.include({
        state: 'FAILED',
        failureReason: 'account_closed',
        timedOut: false,
      });
    }
    expect((await a.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
    await expectBooksRight(instances.store);
  });
});
