import { expect } from 'chai';
import { createMetrics, type ProjectionLag } from '../../src/index.js';

describe('projection metrics', () => {
  it('export how long each projection has been failing, 0 for one that works', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const lags: ProjectionLag[] = [
      { name: 'balances', positions: 0n, seconds: 0 },
      { name: 'payments', positions: 3n, seconds: 0.5, failing: { since: new Date(now - 42_500), failures: 7, lastError: 'the store is unreachable' } },
    ];
    const metrics = createMetrics();
    metrics.observeProjectionLag(() => lags, () => now);

    const scraped = await metrics.registry.getSingleMetricAsString('folio_projection_failing_seconds');
    expect(scraped).to.include('folio_projection_failing_seconds{projection="balances"} 0');
    expect(scraped).to.include('folio_projection_failing_seconds{projection="payments"} 42.5');

    lags[1] = { name: 'payments', positions: 0n, seconds: 0 };
    expect(await metrics.registry.getSingleMetricAsString('folio_projection_failing_seconds'), 'once it works again').to.include(
      'folio_projection_failing_seconds{projection="payments"} 0',
    );
  });
});
