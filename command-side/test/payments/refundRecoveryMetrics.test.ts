/**
 * The gauges an operator alerts on while refund recovery cannot get the provider's answer: refunds
 * awaiting it, those overdue, and the age of the oldest. Time is the write API's injected clock,
 * and the recovery's passes are run by the test, never by a timer.
 */
import { expect } from 'chai';
import { createMetrics, type Metrics } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, eventually, expectProblem, openTempStore, uniqueKey, type TempStore } from '../api/apiHarness.js';
import { createPayment, expectMoved, move, openMerchant, SANDBOX_SECRET } from './paymentTestSupport.js';

const RETRY_MS = 60_000;

const sample = (exposition: string, series: string): number | undefined => {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('refund recovery metrics', () => {
  let offsetMs: number;
  const clock = () => new Date(Date.now() + offsetMs);
  /** Whether the provider answers refund requests; a request it cannot answer times out. */
  let reachable: boolean;
  const provider: ProviderAdapter = {
    provider: 'sandbox',
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    refundPayment: async ({ refundId }) => {
      if (!reachable) throw new Error('timed out');
      return { providerRefundRef: `re_${refundId}` };
    },
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  let temp: TempStore;
  let api: ApiServer;
  let metrics: Metrics;

  beforeEach(async () => {
    offsetMs = 0;
    reachable = false;
    temp = openTempStore(clock);
    api = await ApiServer.start(temp.store, {
      clock,
      sandboxProviders: [],
      providers: [{ adapter: provider, secret: SANDBOX_SECRET }],
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
      awaiting: sample(exposition, 'folio_refunds_awaiting_provider'),
      overdue: sample(exposition, 'folio_refunds_awaiting_provider_overdue'),
      oldestAgeSeconds: sample(exposition, 'folio_refunds_awaiting_provider_oldest_age_seconds'),
    };
  };

  /** The age also counts the real time the test took since the reservation: well under a few seconds. */
  const expectGauges = (actual: Awaited<ReturnType<typeof gauges>>, expected: { awaiting: number; overdue: number; oldestAgeSeconds: number }) => {
    expect(actual).to.include({ awaiting: expected.awaiting, overdue: expected.overdue });
    expect(actual.oldestAgeSeconds).to.be.within(expected.oldestAgeSeconds, expected.oldestAgeSeconds + 5);
  };

  it('counts a refund whose answer was lost as awaiting, then overdue past the retry delay, and 0 once recovered', async () => {
    expect(await gauges()).to.deep.equal({ awaiting: 0, overdue: 0, oldestAgeSeconds: 0 });

    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    expectProblem(await move(api, payment.id, 'refunds', { amount: '4000' }, uniqueKey('refund')), 502, 'provider-unavailable');

    // Counted as the log is followed, before any pass.
    await eventually(async () => (await gauges()).awaiting === 1, 'the reservation counted');
    expect(await gauges()).to.include({ overdue: 0 });

    offsetMs += RETRY_MS - 1_000;
    await api.writeApi.recoverRefunds();
    expectGauges(await gauges(), { awaiting: 1, overdue: 0, oldestAgeSeconds: (RETRY_MS - 1_000) / 1_000 });

    // Overdue from the retry delay on, and still while the provider stays unreachable.
    offsetMs += 1_000;
    await api.writeApi.recoverRefunds();
    expectGauges(await gauges(), { awaiting: 1, overdue: 1, oldestAgeSeconds: RETRY_MS / 1_000 });
    offsetMs += 2 * RETRY_MS;
    await api.writeApi.recoverRefunds();
    expectGauges(await gauges(), { awaiting: 1, overdue: 1, oldestAgeSeconds: (3 * RETRY_MS) / 1_000 });

    // Asked again four retry delays after the second failed attempt, and taken.
    reachable = true;
    offsetMs += 4 * RETRY_MS;
    await api.writeApi.recoverRefunds();
    await eventually(async () => (await gauges()).awaiting === 0, 'the recovered refund no longer counted');
    expect(await gauges()).to.deep.equal({ awaiting: 0, overdue: 0, oldestAgeSeconds: 0 });
  });
});
