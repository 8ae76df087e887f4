/**
 * A close sees the movements in transit as movement recovery has read them up to the account's own
 * last event. A transfer's debit of its source is not on the destination's stream: landed after
 * that point, recovery may not have read it yet, and the destination's close is accepted while the
 * transfer still owes it the credit. The closed destination must then refuse the credit and the
 * debit come back to the source: the transfer fails, saying why, and no money is lost or stranded.
 */
import { expect } from 'chai';
import {
  accountStream,
  collect,
  ledgerCatalog,
  transferStream,
  type EventStore,
  type LedgerEvent,
  type RecordedEvent,
  type SubscribeToAllOptions,
} from '@folio/shared';
import { holdSubscriptionsBefore, interceptAppends, type AppendCall } from '../commandHandling/testSupport.js';
import { expectBooksRight, holdAppends, journalOf, startTwoInstances, type TwoInstances } from '../concurrency/twoInstances.js';
import { createApiHarness, eventually, expectProblem, type ApiServer, type ApiHarness } from './apiHarness.js';

/** Movement recovery's subscription: the fold a close reads the movements in transit from. */
const isMovementRecovery = (options: SubscribeToAllOptions | undefined): boolean =>
  options?.filter?.streamNamePrefixes?.includes('transfer-') ?? false;

/** The accounts of the scenario, known once opened: the stores' gates look for their postings. */
const accounts = { source: '', destination: '' };

const isTransferDebit = (event: RecordedEvent): boolean =>
  event.streamName === accountStream(accounts.source) && event.type === 'AccountDebited';

const isDebit = (call: AppendCall): boolean =>
  call.streamName === accountStream(accounts.source) && journalOf(call)?.kind === 'transfer' && journalOf(call)?.leg === 'first';

const isCredit = (call: AppendCall): boolean =>
  call.streamName === accountStream(accounts.destination) && journalOf(call)?.leg === 'second';

/** The gates of the running test: all opened after it, so that a failed one stops nothing held. */
const gates: Array<{ release(): void }> = [];
const releaseGates = (): void => {
  for (const gate of gates.splice(0)) gate.release();
};

/** Appends `landed` picks reach the log, and the process making them stops there until `release`. */
const holdAfterAppends = (landed: (call: AppendCall) => boolean) => {
  let reach!: (call: AppendCall) => void;
  const reached = new Promise<AppendCall>((resolve) => (reach = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    wrap: (store: EventStore): EventStore =>
      interceptAppends(store, async (call, proceed) => {
        const result = await proceed();
        if (landed(call)) {
          reach(call);
          await released;
        }
        return result;
      }),
    reached,
    release,
  };
};

/** The transfer's stream, as `<type>` or the outcome chosen, `<outcome>[<replaced]`. */
const choicesOf = async (store: EventStore, transferId: string): Promise<string[]> =>
  (await collect(store.readStream(transferStream(transferId)))).map((recorded) => {
    const event = ledgerCatalog.decode(recorded) as LedgerEvent;
    return event.type === 'MovementOutcomeChosen'
      ? `${event.data.outcome}${event.data.replaces === undefined ? '' : `<${event.data.replaces}`}`
      : event.type;
  });

/** Opens the scenario's accounts through `api`: a source holding 300 and an empty destination. */
const openAccounts = async (api: ApiServer): Promise<void> => {
  accounts.source = await api.openFundedAccount('300');
  accounts.destination = (await api.openAccount()).id as string;
};

/** What the caller and the books see: the transfer failed for the closed destination, the source whole, the closed account empty. */
const expectTransferFailedAndMoneyBack = async (response: Awaited<ReturnType<ApiServer['transfer']>>, apis: ApiServer[]) => {
  expect(response.status, response.text).to.equal(201);
  expect(response.body.status).to.equal('failed');
  expect(response.body.failureReason.type).to.equal('account-closed');
  const [api] = apis as [ApiServer];
  expect((await api.get(`/v1/transfers/${response.body.id}`)).body.status).to.equal('failed');
  const source = await api.account(accounts.source);
  expect(source.balance.posted).to.equal('300');
  expect(source.balance.available).to.equal('300');
  const destination = await api.account(accounts.destination);
  expect(destination.status).to.equal('closed');
  expect(destination.balance.posted).to.equal('0');
  await eventually(async () => apis.every((each) => each.writeApi.inTransit().length === 0), 'no money left in transit');
  const report = await expectBooksRight(api.store);
  expect(report.openJournals).to.equal(0);
  expect(report.balances.get(accounts.destination)!.balance).to.equal(0n);
  expect(report.balances.get(accounts.source)!.balance).to.equal(300n);
};

describe('write API over HTTP: the destination of a transfer closed after its debit landed (one writer)', () => {
  let harness: ApiHarness | undefined;
  afterEach(async () => {
    releaseGates();
    await harness?.close();
    harness = undefined;
  });

  it('refuses the credit to the closed account and gives the source its money back: the transfer fails as account-closed', async () => {
    const landed = holdAfterAppends(isDebit);
    let lagging!: ReturnType<typeof holdSubscriptionsBefore>;
    harness = await createApiHarness({}, (store) => {
      lagging = holdSubscriptionsBefore(landed.wrap(store), isTransferDebit, isMovementRecovery);
      return lagging.store;
    });
    gates.push(landed, lagging);
    const { api } = harness;
    await openAccounts(api);

    const transferring = api.transfer(accounts.source, accounts.destination, '300');
    await Promise.all([landed.reached, lagging.reached]);
    // The debit is in the log, recovery has not read it: the close sees nothing in transit to the account.
    const closed = await api.post(`/v1/accounts/${accounts.destination}/close`, {});
    expect(closed.status, closed.text).to.equal(200);
    expect(closed.body.status).to.equal('closed');
    landed.release();
    const response = await transferring;
    lagging.release();

    await expectTransferFailedAndMoneyBack(response, [api]);
  });

  it('refuses the close as money in transit once recovery has read the debit, and the transfer completes', async () => {
    const landed = holdAfterAppends(isDebit);
    gates.push(landed);
    harness = await createApiHarness({}, landed.wrap);
    const { api } = harness;
    await openAccounts(api);

    const transferring = api.transfer(accounts.source, accounts.destination, '300');
    await landed.reached;
    await eventually(async () => api.writeApi.inTransit().length === 1, 'recovery to read the debit');
    const refused = await api.post(`/v1/accounts/${accounts.destination}/close`, {});
    landed.release();
    const response = await transferring;

    const problem = expectProblem(refused, 409, 'account-money-in-transit');
    expect(problem.movements).to.deep.equal([`transfer-${response.body.id}`]);
    expect(refused.headers['retry-after']).to.equal('1');
    expect(response.body.status).to.equal('completed');
    const destination = await api.account(accounts.destination);
    expect(destination.status).to.equal('active');
    expect(destination.balance.posted).to.equal('300');
  });
});

describe('two write APIs: the destination of a transfer closed through one after the other debited the source', () => {
  let instances: TwoInstances | undefined;
  afterEach(async () => {
    releaseGates();
    await instances?.close();
    instances = undefined;
  });

  for (const [where, gate, choices] of [
    ['after its debit landed, before it chose how the transfer ends', () => holdAfterAppends(isDebit), ['reverse']],
    ['after it chose to complete the transfer, before its credit', () => holdAppends(isCredit), ['complete', 'reverse<complete']],
  ] as const) {
    it(`with the transferring process stopped ${where}: the credit is never posted and the debit comes back to the source`, async () => {
      const stopped = gate();
      let lagging!: ReturnType<typeof holdSubscriptionsBefore>;
      instances = await startTwoInstances({
        wrap: {
          a: stopped.wrap,
          b: (store) => {
            lagging = holdSubscriptionsBefore(store, isTransferDebit, isMovementRecovery);
            return lagging.store;
          },
        },
      });
      gates.push(stopped, lagging);
      const { a, b } = instances;
      await openAccounts(a);

      const transferring = a.transfer(accounts.source, accounts.destination, '300');
      await Promise.all([stopped.reached, lagging.reached]);
      const closed = await b.post(`/v1/accounts/${accounts.destination}/close`, {});
      expect(closed.status, closed.text).to.equal(200);
      stopped.release();
      const response = await transferring;
      lagging.release();

      await expectTransferFailedAndMoneyBack(response, [a, b]);
      expect(await choicesOf(instances.store, response.body.id)).to.deep.equal([...choices, 'TransferFailed']);
    });
  }
});
