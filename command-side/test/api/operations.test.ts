/**
 * What operators watch: money in transit, stuck movements, and the resumption of movements a
 * crash interrupted. A crash is simulated by posting a movement's legs straight through the
 * account command handler, as the process would have before dying, and never finishing it.
 */
import { expect } from 'chai';
import { accountStream, type EventStore, type JournalLeg } from '@folio/shared';
import { createAccountCommandHandler } from '../../src/accounts/accountCommandHandler.js';
import { transferPlan, type MovementPlan } from '../../src/movements/movement.js';
import { legCommandId } from '../../src/movements/movementProcess.js';
import type { StuckMovement } from '../../src/movements/movementRecovery.js';
import {
  ApiServer,
  createApiHarness,
  eventually,
  expectBooksBalanced,
  failingAppendsTo,
  openTempStore,
  readAllEvents,
  type TempStore,
} from './apiHarness.js';

/** The legs a crashed process had posted for `plan`, posted the way the movement process posts them. */
const postLegs = async (store: EventStore, plan: MovementPlan, legs: JournalLeg[], now: () => Date) => {
  const accounts = createAccountCommandHandler(store);
  for (const leg of legs) {
    const side = leg === 'second' ? plan.second : plan.first;
    const counterparty = side === plan.first ? plan.second : plan.first;
    const debit = leg === 'reversal' ? side.side === 'credit' : side.side === 'debit';
    await accounts.handle(
      accountStream(side.accountId),
      {
        type: debit ? 'PostDebit' : 'PostCredit',
        accountId: side.accountId,
        journal: { id: plan.id, kind: plan.kind, leg, counterpartyAccountId: counterparty.accountId },
        amount: plan.movement.amount,
        currency: plan.movement.currency,
        ...(leg === 'first' ? { movement: plan.movement } : {}),
      },
      { commandId: legCommandId(plan, leg), correlationId: 'crashed-request', actor: 'test', now: now() },
    );
  }
};

const newTransferPlan = (id: string, fromAccountId: string, toAccountId: string, amount: bigint, now: Date) =>
  transferPlan(id, { fromAccountId, toAccountId, amount, currency: 'EUR', requestedAt: now.toISOString() });

const outcomeOf = async (store: EventStore, transferId: string) =>
  (await readAllEvents(store)).filter((event) => event.streamName === `transfer-${transferId}`);

describe('write API over HTTP: operations', () => {
  describe('after movements that all finished', () => {
    it('shows nothing in transit and nothing stuck', async () => {
      // With a 1 ms threshold anything left open would show as stuck.
      const harness = await createApiHarness({ stuckAfterMs: 1, onStuck: () => {} });
      try {
        const { api } = harness;
        const from = await api.openFundedAccount('1000');
        const to = (await api.openAccount()).id;
        const frozen = (await api.openAccount()).id;
        await api.post(`/v1/accounts/${frozen}/freeze`, {});
        expect((await api.transfer(from, to, '100')).body.status).to.equal('completed');
        expect((await api.transfer(from, frozen, '100')).body.status).to.equal('failed');
        expect((await api.transfer(from, to, '100000')).status).to.equal(422);

        await eventually(async () => (await api.get('/v1/operations/in-transit')).body.movements.length === 0, 'no movement in transit');
        const inTransit = await api.get('/v1/operations/in-transit');
        expect(inTransit.status).to.equal(200);
        expect(inTransit.body).to.deep.equal({ totals: {}, movements: [] });
        const stuck = await api.get('/v1/operations/stuck-movements');
        expect(stuck.status).to.equal(200);
        expect(stuck.body).to.deep.equal({ movements: [] });
      } finally {
        await harness.close();
      }
    });
  });

  describe('a movement whose first leg was posted and that never finished', () => {
    let now: number;
    const clock = () => new Date(now);
    let temp: TempStore;
    let api: ApiServer;
    let failAppendsTo: string | undefined;
    const reports: StuckMovement[][] = [];

    before(async () => {
      now = Date.parse('2025-06-02T09:00:00.000Z');
      temp = openTempStore(clock);
      // The write API's appends to one stream fail while `failAppendsTo` names it: the store is
      // down for that account, so the movement cannot finish however often it is resumed.
      const flaky = failingAppendsTo(temp.store, () => failAppendsTo);
      api = await ApiServer.start(temp.store, {
        eventStore: flaky,
        clock,
        stuckAfterMs: 30,
        onStuck: (stuck) => reports.push(stuck),
      });
    });
    after(async () => {
      await api.stop();
      await temp.dispose();
    });

    it('is in transit, reported as stuck once older than the threshold, then finished by recovery', async () => {
      const from = await api.openFundedAccount('1000');
      const to = (await api.openAccount()).id;
      const plan = newTransferPlan('7300000000000000501', from, to, 300n, clock());
      failAppendsTo = accountStream(to);
      await postLegs(temp.store, plan, ['first'], clock);

      // In transit at once: the debit is posted, the credit is not.
      await eventually(async () => (await api.get('/v1/operations/in-transit')).body.movements.length === 1, 'the movement in transit');
      const inTransit = (await api.get('/v1/operations/in-transit')).body;
      expect(inTransit.totals).to.deep.equal({ EUR: '300' });
      expect(inTransit.movements[0]).to.include({
        kind: 'transfer',
        id: plan.id,
        fromAccountId: from,
        toAccountId: to,
        amount: '300',
        currency: 'EUR',
        inTransit: '300',
        openedAt: clock().toISOString(),
        ageMs: 0,
      });
      // Younger than the threshold: not stuck.
      expect((await api.get('/v1/operations/stuck-movements')).body.movements).to.deep.equal([]);
      expect((await api.account(from)).balance.posted).to.equal('700');

      now += 60_000;
      const stuck = (await api.get('/v1/operations/stuck-movements')).body.movements;
      expect(stuck.length).to.equal(1);
      expect(stuck[0]).to.include({ kind: 'transfer', id: plan.id, inTransit: '300', amount: '300', ageMs: 60_000 });
      expect(stuck[0].running).to.be.a('boolean');
      await eventually(async () => reports.some((report) => report.some((m) => m.id === plan.id)), 'a stuck report');
      expect(await outcomeOf(temp.store, plan.id)).to.deep.equal([]);

      // The store is back: the next check resumes the movement and it completes.
      failAppendsTo = undefined;
      await eventually(async () => (await outcomeOf(temp.store, plan.id)).length > 0, 'the movement to finish');
      expect((await outcomeOf(temp.store, plan.id)).map((event) => event.type)).to.deep.equal(['TransferCompleted']);
      await eventually(async () => (await api.get('/v1/operations/in-transit')).body.movements.length === 0, 'nothing in transit');
      expect((await api.get('/v1/operations/stuck-movements')).body.movements).to.deep.equal([]);
      expect((await api.account(to)).balance.posted).to.equal('300');
      await expectBooksBalanced(temp.store);
    });
  });

  describe('start() of a fresh write API after a crash', () => {
    let temp: TempStore;
    let accounts: { from: string; to: string; frozen: string };
    const plans: Record<'firstOnly' | 'bothLegs' | 'toFrozen', MovementPlan> = {} as never;

    before(async () => {
      temp = openTempStore();
      // The process that crashed: it opened and funded accounts, then died mid-movement.
      const crashed = await ApiServer.start(temp.store);
      accounts = {
        from: await crashed.openFundedAccount('1000'),
        to: (await crashed.openAccount()).id,
        frozen: (await crashed.openAccount()).id,
      };
      await crashed.stop();
      const now = new Date();
      plans.firstOnly = newTransferPlan('7300000000000000601', accounts.from, accounts.to, 100n, now);
      plans.bothLegs = newTransferPlan('7300000000000000602', accounts.from, accounts.to, 200n, now);
      plans.toFrozen = newTransferPlan('7300000000000000603', accounts.from, accounts.frozen, 300n, now);
      await postLegs(temp.store, plans.firstOnly, ['first'], () => now);
      await postLegs(temp.store, plans.bothLegs, ['first', 'second'], () => now);
      await postLegs(temp.store, plans.toFrozen, ['first'], () => now);
      // While the process was down, the destination of one movement was frozen.
      await createAccountCommandHandler(temp.store).handle(
        accountStream(accounts.frozen),
        { type: 'FreezeAccount', accountId: accounts.frozen },
        { commandId: 'freeze-while-down', correlationId: 'ops', actor: 'test', now },
      );
    });
    after(() => temp.dispose());

    it('leaves three open movements and 400 in transit before the restart (the one with both legs holds none)', async () => {
      const report = await expectBooksBalanced(temp.store);
      expect(report.openJournals).to.equal(3);
      expect(report.inTransit.get('EUR')).to.equal(400n); // the both-legs movement has nothing in transit
    });

    it('resumes every interrupted movement before it resolves, each to the end the log allows', async () => {
      const api = await ApiServer.start(temp.store);
      try {
        const outcomes = async (plan: MovementPlan) => (await outcomeOf(temp.store, plan.id)).map((event) => event.type);
        // No polling: start() resolves once the interrupted movements are resumed.
        expect(await outcomes(plans.firstOnly)).to.deep.equal(['TransferCompleted']);
        expect(await outcomes(plans.bothLegs)).to.deep.equal(['TransferCompleted']);
        expect(await outcomes(plans.toFrozen)).to.deep.equal(['TransferFailed']);

        // 100 and 200 arrived once each (the posted second leg was not posted again); 300 went back.
        expect((await api.account(accounts.to)).balance.posted).to.equal('300');
        expect((await api.account(accounts.frozen)).balance.posted).to.equal('0');
        expect((await api.account(accounts.from)).balance.posted).to.equal('700');

        await eventually(async () => (await api.get('/v1/operations/in-transit')).body.movements.length === 0, 'nothing in transit');
        expect((await api.get('/v1/operations/in-transit')).body).to.deep.equal({ totals: {}, movements: [] });
        const report = await expectBooksBalanced(temp.store);
        expect(report.openJournals).to.equal(0);
        expect(report.inTransit.get('EUR') ?? 0n).to.equal(0n);
      } finally {
        await api.stop();
      }
    });
  });
});
