/**
 * The gauges an operator alerts on while payout deadline recovery cannot end a payout (the store
 * refusing its failure): payouts open past their deadline and the age of the oldest. Time is the
 * write APIs' injected clock; the tests run the passes themselves.
 */
import { expect } from 'chai';
import { createMetrics, StoreUnavailableError, type Metrics } from '@folio/shared';
import { ApiServer, eventually, openTempStore, type TempStore } from '../api/apiHarness.js';
import { interceptAppends, noPeriodicCheck, steppedClock } from '../commandHandling/testSupport.js';
import { asSharedLog } from '../concurrency/twoInstances.js';
import { quietSandbox, requestPayout } from '../payments/paymentTestSupport.js';

const TIMEOUT_MS = 60_000;
/** How long after its deadline another instance steps in for the one that took the payout. */
const GRACE_MS = 60_000;

/** The single sample of an unlabelled series. */
const sample = (exposition: string, series: string): number | undefined => {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('payout deadline recovery metrics', () => {
  const { clock, advance, reset: resetClock } = steppedClock();
  let temp: TempStore;
  let running: ApiServer[];
  let metrics: Metrics;
  /** The store refuses the failure of a payout to the instance watched. */
  let failureRefused: boolean;

  const apiOptions = {
    ...quietSandbox,
    clock,
    payoutTimeoutMs: TIMEOUT_MS,
    payoutDeadlineRecoveryChecks: noPeriodicCheck,
    onWarning: () => {},
  };

  beforeEach(() => {
    resetClock();
    running = [];
    failureRefused = false;
    temp = openTempStore(clock);
    metrics = createMetrics();
  });
  afterEach(async () => {
    await Promise.all(running.map((api) => api.stop()));
    await temp.dispose();
  });

  /** Instance `a` takes the payout and stops for good; `b` is watched, as the write API's composition wires it. */
  const payoutLeftByStoppedInstance = async () => {
    const a = await ApiServer.start(temp.store, { ...apiOptions, eventStore: asSharedLog(temp.store) });
    running.push(a);
    const b = await ApiServer.start(temp.store, {
      ...apiOptions,
      eventStore: interceptAppends(asSharedLog(temp.store), (call, proceed) =>
        failureRefused && call.streamName.startsWith('payout-') && call.events.some((event) => event.type === 'PayoutFailed')
          ? Promise.reject(new StoreUnavailableError('the store is unreachable'))
          : proceed(),
      ),
    });
    running.push(b);
    metrics.observePayoutsPastDeadline(() => b.writeApi.openPayouts(), () => clock().getTime());
    const account = await a.openFundedAccount('10000', { kind: 'merchant' });
    const requested = await requestPayout(a, account);
    expect(requested.status, requested.text).to.equal(201);
    running = running.filter((other) => other !== a);
    await a.stop();
    return { b, account, payoutId: requested.body.id as string };
  };

  const gauges = async () => {
    const exposition = await metrics.registry.metrics();
    return {
      pastDeadline: sample(exposition, 'folio_payouts_past_deadline'),
      oldestAgeSeconds: sample(exposition, 'folio_payouts_past_deadline_oldest_age_seconds'),
    };
  };

  /** The age also counts the real time the test took since the deadline: well under a few seconds. */
  const expectGauges = async (pastDeadline: number, oldestAgeSeconds: number) => {
    const actual = await gauges();
    expect(actual.pastDeadline).to.equal(pastDeadline);
    expect(actual.oldestAgeSeconds).to.be.within(oldestAgeSeconds, oldestAgeSeconds + 5);
  };

  it('counts a payout its deadline recovery cannot end as past its deadline, aging, and drops it once ended', async () => {
    failureRefused = true;
    const { b, account, payoutId } = await payoutLeftByStoppedInstance();
    await eventually(async () => b.writeApi.openPayouts().some((payout) => payout.payoutId === payoutId), 'the payout folded');

    // Open, held, but not past its deadline yet.
    advance(TIMEOUT_MS - 1_000);
    await b.writeApi.recoverPayoutDeadlines();
    expect(await gauges()).to.deep.equal({ pastDeadline: 0, oldestAgeSeconds: 0 });

    advance(1_000 + GRACE_MS);
    await b.writeApi.recoverPayoutDeadlines();
    expect(await b.available(account)).to.equal('6000');
    await expectGauges(1, GRACE_MS / 1_000);

    // Still held while the store keeps refusing: the count stays and the age grows.
    advance(2 * GRACE_MS);
    await b.writeApi.recoverPayoutDeadlines();
    expect(await b.available(account)).to.equal('6000');
    await expectGauges(1, (3 * GRACE_MS) / 1_000);

    failureRefused = false;
    advance(4 * GRACE_MS);
    await b.writeApi.recoverPayoutDeadlines();
    expect(await b.available(account)).to.equal('10000');
    expect(await gauges()).to.deep.equal({ pastDeadline: 0, oldestAgeSeconds: 0 });
  });

  it('counts a hold whose payout request was never recorded only once it should have been released', async () => {
    let refusing = true;
    const api = await ApiServer.start(temp.store, {
      ...apiOptions,
      eventStore: interceptAppends(temp.store, (call, proceed) =>
        refusing && call.streamName.startsWith('payout-') && call.events.some((event) => ['PayoutRequested', 'PayoutAbandoned'].includes(event.type))
          ? Promise.reject(new StoreUnavailableError('the store is unreachable'))
          : proceed(),
      ),
    });
    running.push(api);
    metrics.observePayoutsPastDeadline(() => api.writeApi.openPayouts(), () => clock().getTime());
    const account = await api.openFundedAccount('10000', { kind: 'merchant' });
    const failed = await requestPayout(api, account);
    expect(failed.status, failed.text).to.be.at.least(500);
    await eventually(async () => api.writeApi.openPayouts().length === 1, 'the hold folded');

    // A request still being recorded looks the same: not counted before its release is due.
    advance(GRACE_MS - 1_000);
    await api.writeApi.recoverPayoutDeadlines();
    expect(await gauges()).to.deep.equal({ pastDeadline: 0, oldestAgeSeconds: 0 });

    // Due, and its abandonment refused: held past when it should have been released.
    advance(1_000 + GRACE_MS);
    await api.writeApi.recoverPayoutDeadlines();
    expect(await api.available(account)).to.equal('6000');
    await expectGauges(1, GRACE_MS / 1_000);

    refusing = false;
    advance(2 * GRACE_MS);
    await api.writeApi.recoverPayoutDeadlines();
    expect(await api.available(account)).to.equal('10000');
    expect(await gauges()).to.deep.equal({ pastDeadline: 0, oldestAgeSeconds: 0 });
  });
});
