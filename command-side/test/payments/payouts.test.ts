/**
 * Payouts over HTTP: the amount is held while the provider decides, then posted or released on
 * its answer or on the deadline; racing payouts never hold more than the account has.
 */
import { expect } from 'chai';
import { accountStream, systemAccountId, type CurrencyCode } from '@folio/shared';
import { createAccountCommandHandler } from '../../src/accounts/accountCommandHandler.js';
import { PAYOUT_HOLD } from '../../src/payouts/payoutService.js';
import {
  ApiServer,
  createApiHarness,
  eventually,
  expectBooksBalanced,
  expectProblem,
  readAllEvents,
  uniqueKey,
  type ApiHarness,
} from '../api/apiHarness.js';
import { expectBooksUntouched, postedOf, quietSandbox, sendCallback } from './paymentTestSupport.js';

const BANK = systemAccountId({ role: 'bank', currency: 'EUR' });

describe('payouts', () => {
  let harness: ApiHarness;
  let api: ApiServer;

  const requestPayout = (accountId: string, amount: string, key = uniqueKey('payout')) =>
    api.post(
      '/v1/payouts',
      { accountId, amount, currency: 'EUR', provider: 'sandbox', destination: 'DE89370400440532013000' },
      { key },
    );

  const payoutCallback = (
    type: 'payout.paid' | 'payout.failed',
    payout: { id: string; providerRef: string },
    id = uniqueKey('evt'),
  ) =>
    sendCallback(api, {
      id,
      type,
      createdAt: new Date().toISOString(),
      data: { reference: payout.providerRef, ...(type === 'payout.failed' ? { reason: 'account_closed' } : {}) },
    });

  describe('with a provider that answers through callbacks', () => {
    beforeEach(async () => {
      harness = await createApiHarness({ ...quietSandbox, payoutTimeoutMs: 60_000 });
      api = harness.api;
    });
    afterEach(() => harness.close());

    it('holds the amount against the available balance until the provider pays, then posts it', async () => {
      const account = await api.openFundedAccount('10000', { kind: 'merchant' });
      const response = await requestPayout(account, '4000');
      expect(response.status, response.text).to.equal(201);
      expect(response.body).to.include({ state: 'SUBMITTED', amount: '4000', providerRef: `sbx_po_${response.body.id}` });
      const held = await api.account(account);
      expect(held.balance).to.deep.equal({ posted: '10000', pending: '-4000', available: '6000' });

      const paid = await payoutCallback('payout.paid', response.body);
      expect(paid.body).to.include({ resource: 'payout', outcome: 'applied' });
      expect((await api.get(`/v1/payouts/${response.body.id}`)).body.state).to.equal('PAID');
      expect((await api.account(account)).balance).to.deep.equal({ posted: '6000', pending: '0', available: '6000' });
      expect(await postedOf(api, BANK)).to.equal(-10_000n + 4_000n);
      await expectBooksBalanced(harness.store);
    });

    it('releases the hold when the provider refuses, and flags a contrary answer after that', async () => {
      const account = await api.openFundedAccount('10000', { kind: 'merchant' });
      const payout = (await requestPayout(account, '4000')).body;
      expect((await payoutCallback('payout.failed', payout)).body.outcome).to.equal('applied');
      expect((await api.get(`/v1/payouts/${payout.id}`)).body).to.include({ state: 'FAILED', failureReason: 'account_closed' });
      expect((await api.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      const late = await payoutCallback('payout.paid', payout);
      expect(late.body).to.include({ outcome: 'superseded', flaggedForReconciliation: true });
      expect((await api.account(account)).balance.posted).to.equal('10000');
      await expectBooksBalanced(harness.store);
    });

    it('refuses and flags an answer for another amount or currency than the payout, keeping the hold', async () => {
      const account = await api.openFundedAccount('10000', { kind: 'merchant' });
      const payout = (await requestPayout(account, '4000')).body;
      const answer = (data: { amount: string; currency: CurrencyCode }) =>
        sendCallback(api, {
          id: uniqueKey('evt'),
          type: 'payout.paid',
          createdAt: new Date().toISOString(),
          data: { reference: payout.providerRef, ...data },
        });
      const dollars = await answer({ amount: '4000', currency: 'USD' });
      expect(dollars.status, dollars.text).to.equal(200);
      expect(dollars.body).to.include({ outcome: 'refused', flaggedForReconciliation: true });
      expect((await answer({ amount: '1', currency: 'EUR' })).body).to.include({ outcome: 'refused', flaggedForReconciliation: true });
      expect((await api.get(`/v1/payouts/${payout.id}`)).body).to.include({ state: 'SUBMITTED', flaggedForReconciliation: true });
      expect((await api.account(account)).balance).to.deep.equal({ posted: '10000', pending: '-4000', available: '6000' });
      const recorded = (await readAllEvents(harness.store)).filter((event) => event.type === 'PayoutCallbackRecorded');
      expect(recorded.map((event) => [event.data.amount, event.data.currency])).to.deep.equal([
        ['4000', 'USD'],
        ['1', 'EUR'],
      ]);

      expect((await answer({ amount: '4000', currency: 'EUR' })).body.outcome).to.equal('applied');
      expect((await api.account(account)).balance).to.deep.equal({ posted: '6000', pending: '0', available: '6000' });
      await expectBooksBalanced(harness.store);
    });

    it('refuses a payout beyond the available balance (holds included), writing nothing', async () => {
      const account = await api.openFundedAccount('10000', { kind: 'merchant' });
      expect((await requestPayout(account, '7000')).status).to.equal(201);
      const refused = await expectBooksUntouched(harness.store, () => requestPayout(account, '3001'));
      expect(expectProblem(refused, 422, 'insufficient-funds').available).to.equal('3000');
    });

    it('never over-draws an account when payouts race on it', async () => {
      const account = await api.openFundedAccount('10000', { kind: 'merchant' });
      const responses = await Promise.all(Array.from({ length: 25 }, () => requestPayout(account, '1000')));
      const accepted = responses.filter((response) => response.status === 201);
      const refused = responses.filter((response) => response.status === 422);
      expect(accepted.length + refused.length, responses.map((r) => r.text).join('\n')).to.equal(25);
      expect(accepted).to.have.length(10);
      for (const response of refused) expectProblem(response, 422, 'insufficient-funds');
      expect((await api.account(account)).balance.available).to.equal('0');
      await Promise.all(accepted.map((response) => payoutCallback('payout.paid', response.body)));
      expect((await api.account(account)).balance).to.deep.equal({ posted: '0', pending: '0', available: '0' });
      const report = await expectBooksBalanced(harness.store);
      expect(report.balances.get(account)?.balance).to.equal(0n);
    });

    it('never over-draws an account when payouts race with transfers out of it', async () => {
      const account = await api.openFundedAccount('10000', { kind: 'merchant' });
      const other = (await api.openAccount()).id;
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          i % 2 === 0 ? requestPayout(account, '1000') : api.transfer(account, other, '1000'),
        ),
      );
      expect(responses.filter((response) => response.status === 201)).to.have.length(10);
      expect((await api.account(account)).balance.available).to.equal('0');
      await expectBooksBalanced(harness.store);
    });
  });

  describe('with a provider that refuses payouts outright', () => {
    beforeEach(async () => {
      harness = await createApiHarness({
        ...quietSandbox,
        sandboxFaults: { ...quietSandbox.sandboxFaults, submitErrorRate: 1 },
        payoutTimeoutMs: 60_000,
      });
      api = harness.api;
    });
    afterEach(() => harness.close());

    it('fails the payout and releases its hold at once', async () => {
      const account = await api.openFundedAccount('10000', { kind: 'merchant' });
      const response = await requestPayout(account, '4000');
      expect(response.status, response.text).to.equal(201);
      expect(response.body).to.include({ state: 'FAILED', timedOut: false });
      expect(response.body.failureReason).to.match(/declined the payout/);
      expect((await api.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      await expectBooksBalanced(harness.store);
    });
  });

  describe('with a provider that never answers', () => {
    beforeEach(async () => {
      harness = await createApiHarness({ ...quietSandbox, payoutTimeoutMs: 150 });
      api = harness.api;
    });
    afterEach(() => harness.close());

    it('releases the hold at the deadline and marks the payout failed (timed out)', async () => {
      const account = await api.openFundedAccount('10000', { kind: 'merchant' });
      const payout = (await requestPayout(account, '4000')).body;
      expect((await api.account(account)).balance.available).to.equal('6000');
      await eventually(async () => (await api.get(`/v1/payouts/${payout.id}`)).body.state === 'FAILED', 'the payout to time out');
      expect((await api.get(`/v1/payouts/${payout.id}`)).body).to.include({ timedOut: true });
      expect((await api.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      const late = await payoutCallback('payout.paid', payout);
      expect(late.body).to.include({ outcome: 'superseded', flaggedForReconciliation: true });
      await expectBooksBalanced(harness.store);
    });
  });

  describe('after a crash', () => {
    beforeEach(async () => {
      harness = await createApiHarness({ ...quietSandbox, payoutTimeoutMs: 60_000 });
      api = harness.api;
    });
    afterEach(() => harness.close());

    it('releases the hold of a payout interrupted before it was requested, and keeps the others', async () => {
      const account = await api.openFundedAccount('10000', { kind: 'merchant' });
      const requested = (await requestPayout(account, '3000')).body;
      // What a process that died right after holding the money leaves behind.
      await createAccountCommandHandler(harness.store).handle(
        accountStream(account),
        {
          type: 'PlaceHold',
          accountId: account,
          holdId: '7300000000000000777',
          amount: 2_000n,
          currency: 'EUR',
          purpose: PAYOUT_HOLD,
        },
        { commandId: 'hold-7300000000000000777', correlationId: 'crashed', actor: 'test', now: new Date() },
      );
      expect(await api.available(account)).to.equal('5000');
      await api.stop();
      const restarted = await ApiServer.start(harness.store, { ...quietSandbox, payoutTimeoutMs: 60_000 });
      try {
        expect(await restarted.available(account)).to.equal('7000');
        expect((await restarted.get(`/v1/payouts/${requested.id}`)).body.state).to.equal('SUBMITTED');
      } finally {
        await restarted.stop();
      }
    });
  });
});
