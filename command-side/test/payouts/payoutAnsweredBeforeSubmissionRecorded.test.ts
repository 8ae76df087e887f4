/**
 * A provider's callback may reach another write API instance before the instance that asked the
 * provider has recorded the submission: it names the payout by Folio's id, and that instance
 * applies it. The request then answers the payout as the answer left it, never a refusal that
 * its key would replay while the money moved.
 */
import { expect } from 'chai';
import type { PayoutSubmission } from '../../src/providers/providerAdapter.js';
import { payoutOnlyProvider } from './payoutOnlyProvider.js';
import { ApiServer, uniqueKey, type ApiResponse } from '../api/apiHarness.js';
import { expectBooksRight, startTwoInstances, type TwoInstances } from '../concurrency/twoInstances.js';
import { quietSandbox, requestPayout, SANDBOX_SECRET, sendCallback } from '../payments/paymentTestSupport.js';

describe('a payout answered on another instance before its submission is recorded', () => {
  let instances: TwoInstances | undefined;

  afterEach(async () => {
    await instances?.close();
    instances = undefined;
  });

  /**
   * Two instances whose provider, asked for a payout, calls back on B with `type` and waits for
   * B's answer before it answers the instance that asked.
   */
  const start = async (type: 'payout.paid' | 'payout.failed') => {
    const submitted: PayoutSubmission[] = [];
    const callbacks: ApiResponse[] = [];
    let b!: ApiServer;
    const adapter = payoutOnlyProvider(async (submission) => {
      submitted.push(submission);
      const providerRef = `po_${submission.payoutId}`;
      callbacks.push(
        await sendCallback(b, {
          id: uniqueKey('evt'),
          type,
          createdAt: new Date().toISOString(),
          data: {
            reference: providerRef,
            folioId: submission.payoutId,
            ...(type === 'payout.failed' ? { reason: 'account_closed' } : {}),
          },
        }),
      );
      return { providerRef };
    });
    instances = await startTwoInstances({
      api: { ...quietSandbox, sandboxProviders: [], providers: [{ adapter, secret: SANDBOX_SECRET }], payoutTimeoutMs: 60_000 },
    });
    b = instances.b;
    return { ...instances, submitted, callbacks };
  };

  it('answers the request with the payout paid, and replays that answer for its key', async () => {
    const { a, b, store, submitted, callbacks } = await start('payout.paid');
    const account = await a.openFundedAccount('10000', { kind: 'merchant' });
    const key = uniqueKey('payout');

    const answered = await requestPayout(a, account, key);

    expect(callbacks.map((callback) => [callback.status, callback.body.outcome])).to.deep.equal([[200, 'applied']]);
    expect(answered.status, answered.text).to.equal(201);
    expect(answered.body).to.include({ state: 'PAID', timedOut: false, flaggedForReconciliation: false });
    const retried = await requestPayout(a, account, key);
    expect(retried.status, retried.text).to.equal(201);
    expect(retried.body).to.deep.equal(answered.body);
    expect(submitted).to.have.length(1);
    for (const server of [a, b]) {
      expect((await server.get(`/v1/payouts/${answered.body.id}`)).body.state).to.equal('PAID');
      expect((await server.account(account)).balance).to.deep.equal({ posted: '6000', pending: '0', available: '6000' });
    }
    await expectBooksRight(store);
  });

  it('answers the request with the payout failed for the reason the provider gave, its hold released', async () => {
    const { a, store, callbacks } = await start('payout.failed');
    const account = await a.openFundedAccount('10000', { kind: 'merchant' });

    const answered = await requestPayout(a, account);

    expect(callbacks.map((callback) => [callback.status, callback.body.outcome])).to.deep.equal([[200, 'applied']]);
    expect(answered.status, answered.text).to.equal(201);
    expect(answered.body).to.include({ state: 'FAILED', failureReason: 'account_closed', timedOut: false });
    expect((await a.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
    await expectBooksRight(store);
  });
});
