import { expect } from 'chai';
import { createMetrics } from '../../src/index.js';

/** Every sample of a series, by the value of `label` ('' without labels). */
const samples = (exposition: string, series: string, label: string): Record<string, number> =>
  Object.fromEntries(
    exposition
      .split('\n')
      .filter((line) => line.startsWith(`${series}{`) || line.startsWith(`${series} `))
      .map((line) => [new RegExp(`${label}="([^"]*)"`).exec(line)?.[1] ?? '', Number(line.slice(line.lastIndexOf(' ') + 1))]),
  );

describe('metrics of provider callbacks awaiting their change', () => {
  it('count them by callback type and age the oldest, and show none once they are completed', async () => {
    const metrics = createMetrics();
    const now = Date.parse('2026-11-27T12:00:00.000Z');
    let awaiting = [
      { callbackType: 'payment.captured', recordedAt: '2026-11-27T11:59:00.000Z' },
      { callbackType: 'payment.captured', recordedAt: '2026-11-27T11:58:30.000Z' },
      { callbackType: 'payment.refunded', recordedAt: '2026-11-27T11:59:50.000Z' },
    ];
    metrics.observeCallbacksAwaitingEffect(() => awaiting, () => now);

    let exposition = await metrics.registry.metrics();
    expect(samples(exposition, 'folio_provider_callbacks_awaiting_effect', 'callback_type')).to.deep.equal({
      'payment.captured': 2,
      'payment.refunded': 1,
    });
    expect(samples(exposition, 'folio_provider_callbacks_awaiting_effect_oldest_age_seconds', '')).to.deep.equal({ '': 90 });

    awaiting = [];
    exposition = await metrics.registry.metrics();
    expect(samples(exposition, 'folio_provider_callbacks_awaiting_effect', 'callback_type')).to.deep.equal({});
    expect(samples(exposition, 'folio_provider_callbacks_awaiting_effect_oldest_age_seconds', '')).to.deep.equal({ '': 0 });
  });
});
