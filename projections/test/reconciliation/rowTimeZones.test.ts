import { expect } from 'chai';
import type { StatementRow } from '@folio/shared';
import { appendPayment } from '@folio/shared/testing';
import { inTimeZone } from '../../src/reconciliation/zonedDates.js';
import { discrepancyLabels } from './openLabels.js';
import { appendFormatRow, catchUpReconciliation, expectSameAtBatchSizes, LOG_START, useScenarioStores } from './reconciliationScenario.js';

const at = new Date(LOG_START).toISOString();

/** An Adyen `Settled` row with no reference the payments know: only the rules, and their date window, can match it. */
const settledRow = (amount: bigint, creationDate: string): StatementRow => ({
  line: 2,
  category: 'Settled',
  gross: { amount, currency: 'EUR' },
  net: { amount, currency: 'EUR' },
  references: [],
  bookingDate: creationDate,
  transactionDate: creationDate,
  timeZone: 'CET',
});

describe("reconciliation: a row's date is read in the time zone its file names", () => {
  const stores = useScenarioStores('folio-recon-time-zone-');

  it('judges rows at the edges of the date window by their instant, not their wall-clock time read as UTC', async () => {
    // Captured 2026-06-01T00:00Z; the window is three days either side. June in CET is UTC+2.
    await appendPayment(stores.log, { n: 1, amount: 1000n, at, until: 'captured' });
    await appendPayment(stores.log, { n: 2, amount: 2000n, at, until: 'captured' });
    // 2026-06-03T23:30Z: inside the window.
    await appendFormatRow(stores.log, 'sandbox', 'adyen-sdr', 'inside', settledRow(1000n, '2026-06-04T01:30:00'));
    // 2026-05-28T23:30Z: outside it.
    await appendFormatRow(stores.log, 'sandbox', 'adyen-sdr', 'outside', settledRow(2000n, '2026-05-29T01:30:00'));
    await catchUpReconciliation(stores);
    expect(await discrepancyLabels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED outside']);
    await expectSameAtBatchSizes(stores);
  });
});

describe('reconciliation: a wall-clock time in a named zone as an instant', () => {
  it('reads CET in winter and in summer, leaves dates, offsets and unknown zones as they are', () => {
    expect(inTimeZone('2024-01-15T10:15:30', 'CET')).to.equal('2024-01-15T09:15:30.000Z');
    expect(inTimeZone('2024-05-01T10:15:30', 'CET')).to.equal('2024-05-01T08:15:30.000Z');
    expect(inTimeZone('2024-03-31T03:30:00', 'Europe/Amsterdam')).to.equal('2024-03-31T01:30:00.000Z');
    expect(inTimeZone('2024-05-01', 'CET')).to.equal('2024-05-01');
    expect(inTimeZone('2024-05-01T10:15:24-07:00', 'CET')).to.equal('2024-05-01T10:15:24-07:00');
    expect(inTimeZone('2024-05-01T10:15:30', 'Not/AZone')).to.equal('2024-05-01T10:15:30');
    expect(inTimeZone('2024-05-01T10:15:30', undefined)).to.equal('2024-05-01T10:15:30');
  });
});
