import { expect } from 'chai';
import type { DocumentStore, StatementRow } from '@folio/shared';
import { appendRowRecorded, chargeRow } from '@folio/shared/testing';
import type { DiscrepancyDocument, SummaryDocument } from '../../src/reconciliation/reconciliationDocuments.js';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { catchUpReconciliation, expectSameAtBatchSizes, LOG_START, useScenarioStores } from './reconciliationScenario.js';

const collections = liveCollections(reconciliationProjection);
const at = new Date(LOG_START).toISOString();

const payoutRow: StatementRow = {
  line: 9,
  category: 'payout',
  gross: { amount: -1000n, currency: 'EUR' },
  net: { amount: -1000n, currency: 'EUR' },
  references: [{ kind: 'source', value: 'po_x' }],
  payoutId: 'po_x',
  transactionDate: at,
};
const rows: Record<string, StatementRow> = {
  payout: payoutRow,
  eur: { ...chargeRow(1, 500n, { date: at }), payoutId: 'po_x' },
  usd: { ...chargeRow(2, 500n, { date: at, currency: 'USD' }), payoutId: 'po_x' },
};

const openMismatches = async (documents: DocumentStore) => {
  const summary = async (key: string) => (await documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, key))?.open.PAYOUT_LINES_MISMATCH ?? 0;
  const found = (await documents.find<DiscrepancyDocument & { [key: string]: never }>(collections.discrepancies!, { limit: 1000 })).items as DiscrepancyDocument[];
  return {
    currencies: found.filter((discrepancy) => discrepancy.code === 'PAYOUT_LINES_MISMATCH' && discrepancy.status === 'open').map((discrepancy) => discrepancy.currency),
    counted: { EUR: await summary('sandbox:EUR'), USD: await summary('sandbox:USD') },
  };
};

describe('reconciliation: a payout whose lines are in another currency than it', () => {
  const stores = useScenarioStores('folio-recon-payout-currency-');

  for (const order of [
    ['payout', 'eur', 'usd'],
    ['usd', 'eur', 'payout'],
  ]) {
    it(`reports the mismatch in the payout's currency, whatever row comes last (${order.join(', ')})`, async () => {
      for (const key of order) await appendRowRecorded(stores.log, { rowKey: key, file: 'report', row: rows[key]! }, at);
      await catchUpReconciliation(stores);
      expect(await openMismatches(stores.documents)).to.deep.equal({ currencies: ['EUR'], counted: { EUR: 1, USD: 0 } });
      await expectSameAtBatchSizes(stores);
    });
  }
});
