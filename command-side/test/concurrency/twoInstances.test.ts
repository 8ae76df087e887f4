/**
 * Two write-side processes over one log (see `twoInstances.ts`): everything that keeps the books
 * right across concurrent requests must hold across processes too, since neither instance's
 * caches, locks or in-flight tables know what the other one does.
 */
import { expect } from 'chai';
import { accountStream, WrongExpectedRevisionError, type EventStore, type RecordedEvent, type SqliteEventStore } from '@folio/shared';
import { createAccountCommandHandler, type AccountCommandHandler } from '../../src/accounts/accountCommandHandler.js';
import type { AccountCommand } from '../../src/accounts/accountDecider.js';
import type { MovementPlan } from '../../src/movements/movement.js';
import { legCommandId } from '../../src/movements/movementProcess.js';
import { ApiServer, eventually, openTempStore, readAllEvents, uniqueKey, type ApiResponse } from '../api/apiHarness.js';
import { contextFor, interceptAppends } from '../commandHandling/testSupport.js';
import { BANK, movementPlans, openCustomer, postFirstLegOnly, RUN, startProcess } from '../movements/movementScenario.js';
import { asSharedLog, expectBooksRight, slowAppendsTo, slowReadsOf, startTwoInstances, type TwoInstances } from './twoInstances.js';

const BATCH = '/v1/transfers/batch';

const ofType = (events: RecordedEvent[], type: string) => events.filter((event) => event.type === type);

/** Postings of `commandId` (a leg of a movement): more than one is money moved twice. */
const postingsOf = (events: RecordedEvent[], commandId: string) =>
  events.filter((event) => event.metadata?.commandId === commandId && (event.type === 'AccountDebited' || event.type === 'AccountCredited'));

/** Sends `request` again while it answers 409 or 503 (a conflict, a request of the same key still running, a batch not done). */
const retryUntilAnswered = async (request: () => Promise<ApiResponse>): Promise<ApiResponse> => {
  for (let attempt = 1; ; attempt++) {
    const response = await request();
    if ((response.status !== 409 && response.status !== 503) || attempt === 20) return response;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const statusesOf = (responses: ApiResponse[]) => {
  const counts: Record<string, number> = {};
  for (const response of responses) counts[response.status] = (counts[response.status] ?? 0) + 1;
  return counts;
};

describe('two write-side processes over one log', () => {
  describe('one idempotency key sent to both at once', () => {
    let instances: TwoInstances;
    before(async () => {
      instances = await startTwoInstances();
    });
    after(() => instances.close());

    for (const route of ['transfer', 'deposit'] as const) {
      it(`runs a ${route} once: every answer is the first one's, or 409 with Retry-After while it runs`, async () => {
        const { a } = instances;
        const source = await a.openFundedAccount('10000');
        const destination = (await a.openAccount()).id as string;
        const key = uniqueKey(`same-${route}`);
        const send = (i: number) =>
          route === 'transfer'
            ? instances.either(i).transfer(source, destination, '700', { key })
            : instances.either(i).post('/v1/deposits', { accountId: destination, amount: '700', currency: 'EUR', reference: 'one deposit' }, { key });
        const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i)));

        const answered = responses.filter((response) => response.status === 201);
        const waiting = responses.filter((response) => response.status === 409);
        expect(answered.length + waiting.length, JSON.stringify(statusesOf(responses))).to.equal(20);
        expect(answered.length).to.be.greaterThan(0);
        for (const response of waiting) {
          expect(response.body.type, response.text).to.equal('urn:folio:problem:idempotent-request-in-progress');
          expect(response.headers['retry-after']).to.match(/^[1-9][0-9]*$/);
        }
        // Those told to wait get the same answer once it is recorded, from either instance.
        const retried = await Promise.all(waiting.map((_, i) => send(i)));
        const bodies = new Set([...answered, ...retried].map((response) => JSON.stringify(response.body)));
        expect(retried.map((response) => response.status)).to.deep.equal(waiting.map(() => 201));
        expect(bodies.size, [...bodies].join('\n')).to.equal(1);

        const id = answered[0]!.body.id as string;
        const events = await readAllEvents(instances.store);
        const outcome = route === 'transfer' ? 'TransferCompleted' : 'DepositCompleted';
        const idField = route === 'transfer' ? 'transferId' : 'depositId';
        const ours = ofType(events, outcome).filter((event) => (event.data as Record<string, unknown>)[idField] === id);
        expect(ours).to.have.length(1);
        // One movement in the log for the key, whatever ids the losing instance minted.
        const credited = ofType(events, 'AccountCredited').filter((event) => (event.data as { accountId: string }).accountId === destination);
        expect(credited).to.have.length(1);
        await expectBooksRight(instances.store);
      });
    }
  });

  describe('200 concurrent transfers out of an account that can afford exactly 50, half through each', () => {
    let instances: TwoInstances;
    let source: string;
    let first: ApiResponse[];
    let final: ApiResponse[];
    before(async () => {
      instances = await startTwoInstances();
      const { a, b } = instances;
      // 4000 deposited + 1000 overdraft = 5000 available = 50 transfers of 100.
      source = await a.openFundedAccount('4000', { overdraftLimit: '1000' });
      const destinations: string[] = [];
      for (let i = 0; i < 4; i++) destinations.push((await (i % 2 ? b : a).openAccount()).id);
      const keys = Array.from({ length: 200 }, () => uniqueKey('two-instances'));
      const send = (i: number, through: number) =>
        instances.either(through).transfer(source, destinations[i % destinations.length]!, '100', { key: keys[i]! });
      first = await Promise.all(keys.map((_, i) => send(i, i)));
      // A conflict that outlasted its retries is no answer: the client retries with the same key.
      final = await Promise.all(first.map((response, i) => (response.status === 409 ? retryUntilAnswered(() => send(i, i + 1)) : response)));
    });
    after(() => instances.close());

    it('answers every request at once with a completion, a refusal for insufficient funds, or a conflict to retry', () => {
      for (const response of first) {
        if (response.status === 201) continue;
        expect(response.status, response.text).to.be.oneOf([409, 422]);
        expect(response.body.type, response.text).to.be.oneOf(['urn:folio:problem:concurrency-conflict', 'urn:folio:problem:insufficient-funds']);
      }
      // A retry never changes a final answer.
      first.forEach((response, i) => {
        if (response.status !== 409) expect(final[i]).to.equal(response);
      });
    });

    it('completes exactly 50 and refuses 150 for insufficient funds, once every request has its answer', () => {
      expect(statusesOf(final)).to.deep.equal({ 201: 50, 422: 150 });
      expect(final.filter((r) => r.status === 201).every((r) => r.body.status === 'completed')).to.equal(true);
      for (const response of final.filter((r) => r.status === 422)) {
        expect(response.body.type, response.text).to.equal('urn:folio:problem:insufficient-funds');
      }
    });

    it('leaves the source at its limit and never below it, and the books balanced at every position', async () => {
      expect(await instances.b.available(source)).to.equal('0');
      expect(await instances.a.available(source)).to.equal('0');
      const report = await expectBooksRight(instances.store);
      expect(report.balances.get(source)!.balance).to.equal(-1000n);
      expect(report.openJournals).to.equal(0);
    });
  });

  /** What the crashed run left half done, for a scenario to pick from. */
  interface HalfDone {
    credited: MovementPlan[];
    refused: MovementPlan[];
    deposits: MovementPlan[];
  }
  const recoveryScenarios: { name: string; wrapB?: (plans: HalfDone) => (store: EventStore) => EventStore }[] = [
    { name: 'restarted together' },
    { name: 'restarted together, B further from the log', wrapB: () => (store) => slowAppendsTo(store, () => true, 25) },
    // B's postings to the bank account then come in other batches than A's.
    { name: 'restarted together, B slow to read one deposit', wrapB: (plans) => (store) => slowReadsOf(store, plans.deposits[3]!.streamName, 20) },
    { name: 'restarted together, B slow to read one transfer', wrapB: (plans) => (store) => slowReadsOf(store, plans.refused[3]!.streamName, 20) },
  ];
  recoveryScenarios.forEach(({ name, wrapB }, scenario) =>
    describe(`movement recovery in both, ${name} after a crash left movements half done`, () => {
      const { transfer, deposit } = movementPlans(7400000000000001000n + BigInt(scenario) * 1000n);
      const SOURCE = '7400000000000000011';
      const OPEN = '7400000000000000012';
      const FROZEN = '7400000000000000013';
      const CUSTOMERS = Array.from({ length: 8 }, (_, i) => (7400000000000000100n + BigInt(i)).toString());
      const plans: HalfDone = {
        credited: Array.from({ length: 20 }, () => transfer(SOURCE, OPEN, 10n)),
        refused: Array.from({ length: 20 }, () => transfer(SOURCE, FROZEN, 10n)),
        deposits: Array.from({ length: 40 }, (_, i) => deposit(CUSTOMERS[i % CUSTOMERS.length]!, 5n)),
      };
      let instances: TwoInstances;

      /** The run that crashed: every movement's first leg posted, nothing after it; the destination of some frozen since. */
      const crashedRun = async (store: SqliteEventStore) => {
        const { accounts, movements } = startProcess(store);
        for (const id of [SOURCE, OPEN, FROZEN, ...CUSTOMERS]) await openCustomer(accounts, id);
        await movements.run(deposit(SOURCE, 1000n), RUN);
        await Promise.all([...plans.credited, ...plans.refused, ...plans.deposits].map((plan) => postFirstLegOnly(accounts, plan)));
        await accounts.handle(accountStream(FROZEN), { type: 'FreezeAccount', accountId: FROZEN }, contextFor('freeze-frozen'));
      };

      before(async () => {
        // What either finds open may be running in the other: each resumes it once it is stuck,
        // and both find it stuck at the same moment.
        instances = await startTwoInstances({
          api: { stuckAfterMs: 100 },
          prepare: crashedRun,
          ...(wrapB === undefined ? {} : { wrap: { b: wrapB(plans) } }),
        });
        const settled = () => instances.a.writeApi.inTransit().length + instances.b.writeApi.inTransit().length === 0;
        await eventually(async () => settled(), 'both instances to finish the interrupted movements');
      });
      after(() => instances.close());

      it('finishes every movement once: no leg posted twice, no outcome recorded twice, nothing left in transit', async () => {
        const events = await readAllEvents(instances.store);
        const twice: string[] = [];
        for (const plan of [...plans.credited, ...plans.refused, ...plans.deposits]) {
          for (const leg of ['first', 'second', 'reversal'] as const) {
            const count = postingsOf(events, legCommandId(plan, leg)).length;
            if (count > 1) twice.push(`${legCommandId(plan, leg)} ×${count}`);
          }
        }
        expect(twice).to.deep.equal([]);
        expect(ofType(events, 'TransferCompleted')).to.have.length(plans.credited.length);
        expect(ofType(events, 'TransferFailed')).to.have.length(plans.refused.length);
        expect(ofType(events, 'DepositCompleted')).to.have.length(plans.deposits.length + 1);
        const report = await expectBooksRight(instances.store);
        expect(report.openJournals).to.equal(0);
        expect(instances.a.writeApi.inTransit()).to.deep.equal([]);
        expect(instances.b.writeApi.inTransit()).to.deep.equal([]);
      });

      it('credits what was credited and reverses what was refused, once each', async () => {
        const report = await expectBooksRight(instances.store);
        expect(report.balances.get(OPEN)!.balance).to.equal(200n);
        expect(report.balances.get(FROZEN)!.balance).to.equal(0n);
        expect(report.balances.get(SOURCE)!.balance).to.equal(800n);
        for (const customer of CUSTOMERS) expect(report.balances.get(customer)!.balance).to.equal(25n);
        expect(report.balances.get(BANK)!.balance).to.equal(-1200n);
      });
    }),
  );

  it('a command two processes post to a system account is appended once, though one cache has not seen the other', async () => {
    const temp = openTempStore();
    try {
      const shared = asSharedLog(temp.store);
      const [mine, theirs] = [createAccountCommandHandler(shared), createAccountCommandHandler(shared)];
      const bank = accountStream(BANK);
      const open: AccountCommand = {
        type: 'OpenAccount',
        accountId: BANK,
        ownerId: 'folio',
        currency: 'EUR',
        kind: 'system',
        systemRole: 'bank',
        overdraftLimit: 0n,
      };
      await mine.handle(bank, open, contextFor('open-bank'));
      await theirs.load(bank);
      const bankLeg = (depositId: string): AccountCommand => ({
        type: 'PostDebit',
        accountId: BANK,
        journal: { id: depositId, kind: 'deposit', leg: 'second', counterpartyAccountId: '7400000000000005000' },
        amount: 5n,
        currency: 'EUR',
      });
      const post = (handler: AccountCommandHandler, depositId: string) =>
        handler.handle(bank, bankLeg(depositId), contextFor(`deposit-${depositId}:second`), { unconstrained: true });
      await post(mine, '7400000000000005001');
      await post(mine, '7400000000000005002');

      // The same deposit finished by the other process too, whose cache holds the bank as opened.
      await post(theirs, '7400000000000005001');

      const events = await readAllEvents(temp.store);
      expect(ofType(events, 'AccountDebited').map((event) => event.metadata?.commandId)).to.deep.equal([
        'deposit-7400000000000005001:second',
        'deposit-7400000000000005002:second',
      ]);
    } finally {
      await temp.dispose();
    }
  });

  it('a process starting while another one is between the legs of a transfer leaves it to that one', async () => {
    const temp = openTempStore();
    const shared = asSharedLog(temp.store);
    // A's reversal of the debit its destination refused waits until B has started.
    let reversing!: () => void;
    const reversalReached = new Promise<void>((resolve) => (reversing = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const a = await ApiServer.start(temp.store, {
      eventStore: interceptAppends(shared, async (call, proceed) => {
        const journal = (call.events[0]?.data as { journal?: { leg?: string } }).journal;
        if (journal?.leg === 'reversal') {
          reversing();
          await released;
        }
        return proceed();
      }),
    });
    let b: ApiServer | undefined;
    try {
      const source = await a.openFundedAccount('500');
      const destination = (await a.openAccount()).id as string;
      expect((await a.post(`/v1/accounts/${destination}/freeze`, {})).status).to.equal(200);
      const transferring = a.transfer(source, destination, '100');
      await reversalReached;
      // The destination would take the money now: a second run of the transfer would credit it.
      expect((await a.post(`/v1/accounts/${destination}/unfreeze`, {})).status).to.equal(200);
      b = await ApiServer.start(temp.store, { eventStore: shared });
      release();

      const response = await transferring;

      expect(response.status, response.text).to.equal(201);
      expect(response.body.status).to.equal('failed');
      expect((await b.get(`/v1/transfers/${response.body.id as string}`)).body.status).to.equal('failed');
      const report = await expectBooksRight(temp.store);
      expect(report.balances.get(source)!.balance).to.equal(500n);
      expect(report.balances.get(destination)!.balance).to.equal(0n);
    } finally {
      release();
      await Promise.all([a.stop(), b?.stop()]);
      await temp.dispose();
    }
  });

  describe('a stale stream state cache in one instance: commands are decided on the current state', () => {
    let instances: TwoInstances;
    /** Appends A attempted, with their outcome. */
    const attemptsOfA: { streamName: string; conflict: boolean }[] = [];
    before(async () => {
      instances = await startTwoInstances({
        wrap: {
          a: (store) =>
            interceptAppends(store, async (call, proceed) => {
              try {
                const result = await proceed();
                attemptsOfA.push({ streamName: call.streamName, conflict: false });
                return result;
              } catch (error) {
                attemptsOfA.push({ streamName: call.streamName, conflict: error instanceof WrongExpectedRevisionError });
                throw error;
              }
            }),
        },
      });
    });
    after(() => instances.close());

    const conflictsOfA = (accountId: string) =>
      attemptsOfA.filter((attempt) => attempt.streamName === accountStream(accountId) && attempt.conflict).length;

    it('refuses a debit the stale cache could afford: the append conflicts and the fresh balance refuses it', async () => {
      const { a, b } = instances;
      const source = await a.openFundedAccount('100');
      const destination = (await a.openAccount()).id as string;
      // A holds the source at 100 available; B spends it.
      expect((await b.transfer(source, destination, '100')).status).to.equal(201);

      const response = await a.transfer(source, destination, '100');

      expect(response.status, response.text).to.equal(422);
      expect(response.body.type).to.equal('urn:folio:problem:insufficient-funds');
      expect(response.body.available, response.text).to.equal('0');
      expect(conflictsOfA(source), 'A decided on its cached state first').to.be.greaterThan(0);
      const report = await expectBooksRight(instances.store);
      expect(report.balances.get(source)!.balance).to.equal(0n);
    });

    it('completes a debit the stale cache could not afford: a refusal is decided again on the log', async () => {
      const { a, b } = instances;
      const source = await a.openFundedAccount('0');
      const destination = (await a.openAccount()).id as string;
      expect(await a.available(source)).to.equal('0');
      expect((await b.deposit(source, '300')).status).to.equal(201);

      const response = await a.transfer(source, destination, '250');

      expect(response.status, response.text).to.equal(201);
      expect(response.body.status).to.equal('completed');
      expect(await b.available(source)).to.equal('50');
      await expectBooksRight(instances.store);
    });

    it('reverses a transfer into an account the other instance froze, which the stale cache holds active', async () => {
      const { a, b } = instances;
      const source = await a.openFundedAccount('500');
      const destination = (await a.openAccount()).id as string;
      expect((await a.transfer(source, destination, '100')).status).to.equal(201);
      expect((await b.post(`/v1/accounts/${destination}/freeze`, {})).status).to.equal(200);
      const before = conflictsOfA(destination);

      const response = await a.transfer(source, destination, '100');

      expect(response.status, response.text).to.equal(201);
      expect(response.body.status).to.equal('failed');
      expect(response.body.failureReason.type).to.equal('account-frozen');
      // With several writers, A chooses the outcome on the destination's state in the log before it posts: no credit was tried on its cache.
      expect(conflictsOfA(destination) - before, 'A credited on its cached state').to.equal(0);
      const chosen = ofType(await readAllEvents(instances.store), 'MovementOutcomeChosen').filter(
        (event) => (event.data as { journalId: string }).journalId === response.body.id,
      );
      expect(chosen.map((event) => (event.data as { outcome: string; reason?: { type: string } }).reason?.type)).to.deep.equal(['account-frozen']);
      const report = await expectBooksRight(instances.store);
      expect(report.balances.get(source)!.balance).to.equal(400n);
      expect(report.balances.get(destination)!.balance).to.equal(100n);
    });

    it('debits an account the other instance unfroze, which the stale cache holds frozen', async () => {
      const { a, b } = instances;
      const source = await a.openFundedAccount('500');
      const destination = (await a.openAccount()).id as string;
      expect((await a.post(`/v1/accounts/${source}/freeze`, {})).status).to.equal(200);
      expect((await b.post(`/v1/accounts/${source}/unfreeze`, {})).status).to.equal(200);

      const response = await a.transfer(source, destination, '200');

      expect(response.status, response.text).to.equal(201);
      expect(response.body.status).to.equal('completed');
      await expectBooksRight(instances.store);
    });

    it('posts to the bank account once per deposit, both instances posting to it at once', async () => {
      const { a, b } = instances;
      const accounts: string[] = [];
      for (let i = 0; i < 10; i++) accounts.push((await a.openAccount()).id as string);
      const responses = await Promise.all(Array.from({ length: 300 }, (_, i) => instances.either(i).deposit(accounts[i % 10]!, '5')));
      // Every deposit finished at once: none left in transit by conflicts on the bank account.
      expect(statusesOf(responses), responses.find((r) => r.status !== 201)?.text).to.deep.equal({ 201: 300 });
      for (const account of accounts) expect(await b.available(account)).to.equal('150');
      const events = await readAllEvents(instances.store);
      for (const response of responses) {
        expect(postingsOf(events, `deposit-${response.body.id as string}:second`), response.body.id).to.have.length(1);
      }
      await expectBooksRight(instances.store);
    });
  });

  describe('transfer batches on both instances over the same accounts', () => {
    let instances: TwoInstances;
    before(async () => {
      instances = await startTwoInstances();
    });
    after(() => instances.close());

    const item = (fromAccountId: string, toAccountId: string, amount: string) => ({ fromAccountId, toAccountId, amount, currency: 'EUR' });

    it('completes exactly what the source can afford across four concurrent batches, and answers the rest as refused', async () => {
      const { a, b } = instances;
      // 3000 available = 30 transfers of 100, asked for 60 times in four batches.
      const source = await a.openFundedAccount('3000');
      const destinations = [(await a.openAccount()).id as string, (await b.openAccount()).id as string];
      const batches = Array.from({ length: 4 }, (_, batch) => ({
        key: uniqueKey('batch'),
        body: { transfers: Array.from({ length: 15 }, (_, i) => item(source, destinations[(batch + i) % 2]!, '100')) },
      }));
      const send = (batch: number, through: number) => instances.either(through).post(BATCH, batches[batch]!.body, { key: batches[batch]!.key });
      const first = await Promise.all(batches.map((_, batch) => send(batch, batch)));
      // A batch with an item not done yet (503) is sent again, to the other instance.
      const final = await Promise.all(
        first.map((response, batch) => (response.status === 200 ? response : retryUntilAnswered(() => send(batch, batch + 1)))),
      );

      expect(final.map((response) => response.status), final.map((r) => r.text).join('\n')).to.deep.equal([200, 200, 200, 200]);
      const results = final.flatMap((response) => response.body.results as { index: number; id: string; status: number; body: any }[]);
      expect(results.filter((result) => result.status === 201 && result.body.status === 'completed')).to.have.length(30);
      const refused = results.filter((result) => result.status === 422);
      expect(refused).to.have.length(30);
      for (const result of refused) expect(result.body.type).to.equal('urn:folio:problem:insufficient-funds');
      // An item a 503 answered as refused is refused for good.
      first.forEach((response, batch) => {
        if (response.status !== 503) return;
        for (const result of response.body.results as { index: number; status: number }[]) {
          if (result.status >= 400 && result.status < 500) expect(final[batch]!.body.results[result.index]).to.deep.equal(result);
        }
      });
      const report = await expectBooksRight(instances.store);
      expect(report.balances.get(source)!.balance).to.equal(0n);
      expect(report.openJournals).to.equal(0);
    });

    it('runs one batch once when its key is sent to both instances at once', async () => {
      const { a } = instances;
      const source = await a.openFundedAccount('1000');
      const destination = (await a.openAccount()).id as string;
      const key = uniqueKey('same-batch');
      const body = { transfers: Array.from({ length: 5 }, () => item(source, destination, '100')) };
      const send = (i: number) => instances.either(i).post(BATCH, body, { key });

      const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => retryUntilAnswered(() => send(i))));

      expect(statusesOf(responses), responses.map((r) => r.text).join('\n')).to.deep.equal({ 200: 10 });
      expect(new Set(responses.map((response) => JSON.stringify(response.body))).size).to.equal(1);
      const report = await expectBooksRight(instances.store);
      expect(report.balances.get(source)!.balance).to.equal(500n);
      expect(report.balances.get(destination)!.balance).to.equal(500n);
    });
  });
});
