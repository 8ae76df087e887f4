/**
 * A payout the provider reports failed on one write API instance while its deadline passes on the
 * other: both record the failure (the first stands) and both release its hold, each in the words of
 * the failure it met. The second release is the first one's retry, not another command.
 */
import { expect } from 'chai';
import type { EventStore } from '@folio/shared';
import { ApiServer, eventually, uniqueKey } from '../api/apiHarness.js';
import type { AppendCall } from './testSupport.js';
import { expectBooksRight, holdAppends, startTwoInstances, type AppendGate, type TwoInstances } from '../concurrency/twoInstances.js';
import { quietSandbox, sendCallback } from '../payments/paymentTestSupport.js';

const appendsTo = (call: AppendCall, prefix: string, type: string) =>
  call.streamName.startsWith(prefix) && call.events.some((event) => event.type === type);

describe('a payout failed on one instance while its deadline passes on the other', () => {
  let instances: TwoInstances | undefined;

  afterEach(async () => {
    await instances?.close();
    instances = undefined;
  });

  it("answers the provider's failure once the other instance released the hold at the deadline", async () => {
    // A's deadline stops before recording the failure; B's answer stops before releasing the hold.
    const deadlineFailure = holdAppends((call) => appendsTo(call, 'payout-', 'PayoutFailed'));
    const answerRelease = holdAppends((call) => appendsTo(call, 'account-', 'AccountHoldReleased'));
    const through = (gate: AppendGate) => (store: EventStore) => gate.wrap(store);
    instances = await startTwoInstances({
      api: { ...quietSandbox, payoutTimeoutMs: 300 },
      wrap: { a: through(deadlineFailure), b: through(answerRelease) },
    });
    const { a, b } = instances;
    const account = await a.openFundedAccount('10000', { kind: 'merchant' });
    const requested = await a.post(
      '/v1/payouts',
      { accountId: account, amount: '4000', currency: 'EUR', provider: 'sandbox', destination: 'DE89370400440532013000' },
      { key: uniqueKey('payout') },
    );
    expect(requested.status, requested.text).to.equal(201);
    const payout = requested.body as { id: string; providerRef: string };
    await deadlineFailure.reached;

    const callback = {
      id: uniqueKey('evt'),
      type: 'payout.failed' as const,
      createdAt: new Date().toISOString(),
      data: { reference: payout.providerRef, reason: 'account_closed' },
    };
    const answered = sendCallback(b, callback);
    await answerRelease.reached;
    // A finds the provider's failure recorded and releases the hold as its deadline words it.
    deadlineFailure.release();
    await eventually(async () => (await a.account(account)).balance.pending === '0', 'the hold to be released');
    answerRelease.release();

    // Refused, it would be refused again on every redelivery: each repairs the failed payout by
    // releasing its hold in the recorded failure's words.
    const first = await answered;
    expect(first.status, first.text).to.equal(200);
    for (const server of [a, b] as ApiServer[]) {
      expect((await server.get(`/v1/payouts/${payout.id}`)).body).to.include({ state: 'FAILED', failureReason: 'account_closed' });
      expect((await server.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
    }
    await expectBooksRight(instances.store);
  });
});
