/**
 * The gauges an operator alerts on while refund recovery cannot get the provider's answer: refunds
 * awaiting it, those overdue, and the age of the oldest, by the payment's provider and currency.
 * Time is the write API's injected clock, and the recovery's passes are run by the test, never by
 * a timer.
 */
import { expect } from 'chai';
import { createMetrics, type Metrics } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, eventually, expectProblem, openTempStore, uniqueKey, type TempStore } from '../api/apiHarness.js';
import { createPayment, expectMoved, move, openMerchant, SANDBOX_SECRET } from './paymentTestSupport.js';

const RETRY_MS = 60_000;

/** Every sample of a series, by its labels as `provider/currency`. */
const samples = (exposition: string, series: string): Record<string, number> =>
  Object.fromEntries(
    exposition
      .split('\n')
      .filter((line) => line.startsWith(`${series}{`))
      .map((line) => {
        const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, value]));
        return [`${labels.provider}/${labels.currency}`, Number(line.slice(line.lastIndexOf(' ') + 1))];
      }),
  );

describe('refund recovery metrics', () => {
  let offsetMs: number;
  const clock = () => new Date(Date.now() + offsetMs);
  /** The providers that answer refund requests; a request another cannot answer times out. */
  let reachable: Set<string>;
  const adapterOf = (name: 'sandbox' | 'stripe'): ProviderAdapter => ({
    provider: name,
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    refundPayment: async ({ refundId }) => {
      if (!reachable.has(name)) throw new Error('timed out');
      return { providerRefundRef: `re_${refundId}` };
    },
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  });

  let temp: TempStore;
  let api: ApiServer;
  let metrics: Metrics;

  beforeEach(async () => {
    offsetMs = 0;
    reachable = new Set();
    temp = openTempStore(clock);
    api = await ApiServer.start(temp.store, {
      clock,
      sandboxProviders: [],
      providers: [
        { adapter: adapterOf('sandbox'), secret: SANDBOX_SECRET },
        { adapter: adapterOf('stripe'), secret: SANDBOX_SECRET },
      ],
      refundRetryMs: RETRY_MS,
      refundRecoveryChecks: () => () => {},
      onWarning: () => {},
    });
    metrics = createMetrics();
    // As the write API's composition wires them.
    metrics.observeRefundsAwaitingProvider(() => api.writeApi.refundsAwaitingProviderStatus());
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  const gauges = async () => {
    const exposition = await metrics.registry.metrics();
    return {
      awaiting: samples(exposition, 'folio_refunds_awaiting_provider'),
      overdue: samples(exposition, 'folio_refunds_awaiting_provider_overdue'),
      oldestAgeSeconds: samples(exposition, 'folio_refunds_awaiting_provider_oldest_age_seconds'),
    };
  };
  const none = { awaiting: {}, overdue: {}, oldestAgeSeconds: {} };

  /** The age also counts the real time the test took since the reservation: well under a few seconds. */
  const expectGauges = (
    actual: Awaited<ReturnType<typeof gauges>>,
    expected: { awaiting: Record<string, number>; overdue: Record<string, number>; oldestAgeSeconds: Record<string, number> },
  ) => {
    expect(actual.awaiting).to.deep.equal(expected.awaiting);
    expect(actual.overdue).to.deep.equal(expected.overdue);
    expect(Object.keys(actual.oldestAgeSeconds)).to.have.members(Object.keys(expected.oldestAgeSeconds));
    for (const [labels, seconds] of Object.entries(expected.oldestAgeSeconds)) {
      expect(actual.oldestAgeSeconds[labels], labels).to.be.within(seconds, seconds + 5);
    }
  };

  /** A paid payment whose refund the provider did not answer. */
  const refundUnanswered = async (provider: 'sandbox' | 'stripe', currency: string): Promise<void> => {
    const merchant = await openMerchant(api, currency);
    const payment = await createPayment(api, merchant, '10000', { provider, currency });
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    expectProblem(await move(api, payment.id, 'refunds', { amount: '4000' }, uniqueKey('refund')), 502, 'provider-unavailable');
  };

  it('counts a refund whose answer was lost as awaiting, then overdue past the retry delay, and drops it once recovered', async () => {
    expect(await gauges()).to.deep.equal(none);

    await refundUnanswered('sandbox', 'EUR');

    // Counted as the log is followed, before any pass.
    await eventually(async () => (await gauges()).awaiting['sandbox/EUR'] === 1, 'the reservation counted');
    expect((await gauges()).overdue).to.deep.equal({ 'sandbox/EUR': 0 });

    offsetMs += RETRY_MS - 1_000;
    await api.writeApi.recoverRefunds();
    expectGauges(await gauges(), {
      awaiting: { 'sandbox/EUR': 1 },
      overdue: { 'sandbox/EUR': 0 },
      oldestAgeSeconds: { 'sandbox/EUR': (RETRY_MS - 1_000) / 1_000 },
    });

    // Overdue from the retry delay on, and still while the provider stays unreachable.
    offsetMs += 1_000;
    await api.writeApi.recoverRefunds();
    expectGauges(await gauges(), { awaiting: { 'sandbox/EUR': 1 }, overdue: { 'sandbox/EUR': 1 }, oldestAgeSeconds: { 'sandbox/EUR': RETRY_MS / 1_000 } });
    offsetMs += 2 * RETRY_MS;
    await api.writeApi.recoverRefunds();
    expectGauges(await gauges(), {
      awaiting: { 'sandbox/EUR': 1 },
      overdue: { 'sandbox/EUR': 1 },
      oldestAgeSeconds: { 'sandbox/EUR': (3 * RETRY_MS) / 1_000 },
    });

    // Asked again four retry delays after the second failed attempt, and taken.
    reachable.add('sandbox');
    offsetMs += 4 * RETRY_MS;
    await api.writeApi.recoverRefunds();
    await eventually(async () => (await gauges()).awaiting['sandbox/EUR'] === undefined, 'the recovered refund no longer counted');
    expect(await gauges()).to.deep.equal(none);
  });

  it('tells refunds apart by provider and currency, and drops the series of a provider once all its refunds are answered', async () => {
    await refundUnanswered('sandbox', 'EUR');
    offsetMs += RETRY_MS;
    await refundUnanswered('stripe', 'USD');
    await refundUnanswered('sandbox', 'USD');
    await eventually(async () => Object.keys((await gauges()).awaiting).length === 3, 'the three reservations counted');

    await api.writeApi.recoverRefunds();
    expectGauges(await gauges(), {
      awaiting: { 'sandbox/EUR': 1, 'stripe/USD': 1, 'sandbox/USD': 1 },
      overdue: { 'sandbox/EUR': 1, 'stripe/USD': 0, 'sandbox/USD': 0 },
      oldestAgeSeconds: { 'sandbox/EUR': RETRY_MS / 1_000, 'stripe/USD': 0, 'sandbox/USD': 0 },
    });

    // Only stripe answers: its series goes, sandbox's stay as they were, and age.
    reachable.add('stripe');
    offsetMs += RETRY_MS;
    await api.writeApi.recoverRefunds();
    await eventually(async () => (await gauges()).awaiting['stripe/USD'] === undefined, 'the recovered refund no longer counted');
    await api.writeApi.recoverRefunds();
    expectGauges(await gauges(), {
      awaiting: { 'sandbox/EUR': 1, 'sandbox/USD': 1 },
      overdue: { 'sandbox/EUR': 1, 'sandbox/USD': 1 },
      oldestAgeSeconds: { 'sandbox/EUR': (2 * RETRY_MS) / 1_000, 'sandbox/USD': RETRY_MS / 1_000 },
    });
  });
});
