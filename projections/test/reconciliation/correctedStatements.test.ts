import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { DocumentStore, SqliteEventStore } from '@folio/shared';
import { appendStatementImported } from '@folio/shared/testing';
import type { DiscrepancyDocument, SummaryDocument } from '../../src/reconciliation/reconciliationDocuments.js';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { rebuildProjection } from '../../src/rebuild/rebuildProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { catchUpReconciliation, expectSameAtBatchSizes, labelOf, LOG_START, useScenarioStores } from './reconciliationScenario.js';

const collections = liveCollections(reconciliationProjection);
const at = new Date(LOG_START).toISOString();
const fileHashOf = (file: string) => createHash('sha256').update(file).digest('hex');

const breaks = async (documents: DocumentStore) =>
  ((await documents.find<DiscrepancyDocument & { [key: string]: never }>(collections.discrepancies!, { limit: 1000 })).items as DiscrepancyDocument[]).filter(
    (discrepancy) => discrepancy.code === 'STATEMENT_BALANCE_BREAK',
  );
const openBreaks = async (documents: DocumentStore) => (await breaks(documents)).filter((discrepancy) => discrepancy.status === 'open').map(labelOf).sort();
const summary = (documents: DocumentStore) => documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'bank:EUR');

/**
 * Statement 7 of account DE01 for 2 June, as a file states it: an opening and a closing balance,
 * and what its entries credit. `statementId` is the file's own name for it.
 */
const statement = (closing: bigint, credits: bigint, { statementId = 'STMT-0602', sequenceNumber = 7n, day = '2026-06-02' } = {}) => ({
  statementId,
  account: 'DE01',
  currency: 'EUR' as const,
  sequenceNumber,
  periodStart: `${day}T00:00:00+02:00`,
  periodEnd: `${day}T23:59:59+02:00`,
  balances: [
    { type: 'OPBD', amount: 1000n, currency: 'EUR' as const, date: day },
    { type: 'CLBD', amount: closing, currency: 'EUR' as const, date: day },
  ],
  rowTotals: [{ currency: 'EUR' as const, count: 2, credits, debits: 0n }],
});

const expectRebuildIdentical = async (log: SqliteEventStore, documents: DocumentStore) => {
  const report = await rebuildProjection({ eventStore: log, documents, definition: reconciliationProjection, rebuildId: 'corrected' });
  expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
};

describe('reconciliation: a statement the bank sends again, corrected', () => {
  const stores = useScenarioStores('folio-recon-corrected-');

  it('clears the balance break of the earlier version once the corrected statement adds up', async () => {
    // 1000 + 400 is not the closing 1500: one entry of 100 was left out.
    await appendStatementImported(stores.log, 'camt-0602', [statement(1500n, 400n)], at);
    await catchUpReconciliation(stores);
    expect(await openBreaks(stores.documents)).to.deep.equal(['STATEMENT_BALANCE_BREAK STMT-0602']);

    // The corrected file carries the missing entry (another file, so another hash; even another statement id).
    await appendStatementImported(stores.log, 'camt-0602-corrected', [statement(1500n, 500n, { statementId: 'STMT-0602-R1' })], at);
    await catchUpReconciliation(stores);
    expect(await openBreaks(stores.documents)).to.deep.equal([]);
    const [cleared] = await breaks(stores.documents);
    expect(cleared!.status).to.equal('cleared');
    expect((await summary(stores.documents))!.open).to.not.have.property('STATEMENT_BALANCE_BREAK');
    await expectRebuildIdentical(stores.log, stores.documents);
    await expectSameAtBatchSizes(stores);
  });

  it('keeps the break open with the corrected figures when the corrected statement still does not add up', async () => {
    await appendStatementImported(stores.log, 'camt-0602', [statement(1500n, 400n)], at);
    await appendStatementImported(stores.log, 'camt-0602-corrected', [statement(1500n, 450n)], at);
    await catchUpReconciliation(stores);
    const found = await breaks(stores.documents);
    expect(found.map((discrepancy) => [labelOf(discrepancy), discrepancy.status])).to.deep.equal([['STATEMENT_BALANCE_BREAK STMT-0602', 'open']]);
    expect(found[0]!.detail).to.include({ opening: '1000', entries: '450', closing: '1500', difference: '50' });
    expect(found[0]!.evidence.map((evidence) => (evidence.kind === 'statement' ? evidence.fileHash : evidence.kind))).to.deep.equal([fileHashOf('camt-0602-corrected')]);
    expect((await summary(stores.documents))!.open).to.include({ STATEMENT_BALANCE_BREAK: 1 });

    // A third version breaks again after one that added up: the same discrepancy opens again.
    await appendStatementImported(stores.log, 'camt-0602-corrected-2', [statement(1500n, 500n)], at);
    await appendStatementImported(stores.log, 'camt-0602-corrected-3', [statement(1500n, 300n)], at);
    await catchUpReconciliation(stores);
    const reopened = await breaks(stores.documents);
    expect(reopened.map((discrepancy) => discrepancy.status)).to.deep.equal(['open']);
    expect(reopened[0]!.detail).to.include({ entries: '300', difference: '200' });
    await expectRebuildIdentical(stores.log, stores.documents);
    await expectSameAtBatchSizes(stores);
  });

  it('leaves the break of another statement of the account open: another number, or the same number on another day', async () => {
    await appendStatementImported(stores.log, 'camt-0602', [statement(1500n, 400n)], at);
    await appendStatementImported(stores.log, 'camt-0603', [statement(1500n, 500n, { statementId: 'STMT-0603', sequenceNumber: 8n, day: '2026-06-03' })], at);
    // MT940 banks give every day's statement the same number.
    await appendStatementImported(stores.log, 'mt940-0604', [statement(1500n, 500n, { statementId: 'STMT-0604', day: '2026-06-04' })], at);
    await catchUpReconciliation(stores);
    expect(await openBreaks(stores.documents)).to.deep.equal(['STATEMENT_BALANCE_BREAK STMT-0602']);
  });

  it('reports each of two statements alike in one file on its own', async () => {
    await appendStatementImported(stores.log, 'camt-twice', [statement(1500n, 400n), statement(1500n, 450n, { statementId: 'STMT-0602#2' })], at);
    await catchUpReconciliation(stores);
    expect(await openBreaks(stores.documents)).to.deep.equal(['STATEMENT_BALANCE_BREAK STMT-0602', 'STATEMENT_BALANCE_BREAK STMT-0602#2']);
  });
});
