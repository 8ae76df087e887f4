import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  openSqliteDocumentStore,
  reconciliationCatalog,
  reconciliationStream,
  type DocumentStore,
  type ReconciliationEvent,
  type SqliteEventStore,
} from '@folio/shared';
import type { DiscrepancyDocument, SummaryDocument } from '../../src/reconciliation/reconciliationDocuments.js';
import { createReconciliationProjection, reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { defaultReconciliationRules } from '../../src/reconciliation/reconciliationRules.js';
import { rebuildProjection } from '../../src/rebuild/rebuildProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { createProjector } from '../../src/runtime/projector.js';
import { tempPath } from '../fixtures/ledgerFixture.js';
import { appendPayment, appendRowRecorded, chargeRow, paymentIdOf } from '@folio/shared/testing';
import { labelOf, LOG_START, openScenarioLog, writeScenario } from './reconciliationScenario.js';

const collections = liveCollections(reconciliationProjection);

const allDiscrepancies = async (documents: DocumentStore, collection = collections.discrepancies!) =>
  (await documents.find<DiscrepancyDocument & { [key: string]: never }>(collection, { limit: 1000 })).items as DiscrepancyDocument[];

const catchUp = async (log: SqliteEventStore, documents: DocumentStore, options: { catchUpBatchSize?: number; suffix?: string } = {}) => {
  const target = options.suffix === undefined
    ? collections
    : Object.fromEntries(Object.entries(collections).map(([role, name]) => [role, `${name}${options.suffix}`]));
  const projector = createProjector({
    eventStore: log,
    documents,
    definition: reconciliationProjection,
    collections: target,
    checkpointId: `reconciliation${options.suffix ?? ''}`,
    ...(options.catchUpBatchSize === undefined ? {} : { catchUpBatchSize: options.catchUpBatchSize, batchSize: options.catchUpBatchSize }),
  });
  await projector.start();
  await projector.stop();
  return target;
};

describe('reconciliation projection', () => {
  let log: SqliteEventStore;
  let advance: (ms: number) => void;
  let documents: DocumentStore;

  beforeEach(() => {
    ({ log, advance } = openScenarioLog());
    documents = openSqliteDocumentStore({ path: tempPath('folio-recon-', 'readmodels.sqlite') });
  });

  afterEach(async () => {
    await documents.close();
    await log.close();
  });

  it('finds exactly one discrepancy per injected fault, with its evidence, and none for clean traffic', async () => {
    const expected = await writeScenario(log);
    await catchUp(log, documents);
    const open = (await allDiscrepancies(documents)).filter((discrepancy) => discrepancy.status === 'open');
    expect(open.map(labelOf).sort()).to.deep.equal(expected);

    const byLabel = new Map(open.map((discrepancy) => [labelOf(discrepancy), discrepancy]));
    const amount = byLabel.get(`AMOUNT_MISMATCH ${paymentIdOf(8)}`)!;
    expect(amount.detail).to.include({ captured: '800', gross: '801', difference: '1', currency: 'EUR' });
    expect(amount.evidence.map((evidence) => evidence.kind)).to.include.members(['ledger-event', 'statement-row']);
    expect(amount.suggestedAction).to.be.a('string').and.not.empty;
    expect(byLabel.get(`UNIT_EXPONENT_MISMATCH ${paymentIdOf(9)}`)!.detail.exponent).to.equal('2');
    expect(byLabel.get('DUPLICATE_PROVIDER_ROW txn_5')!.evidence).to.have.length(2);
    expect(byLabel.get('AMBIGUOUS_MATCH txn_15')!.detail.candidates).to.equal([paymentIdOf(15), paymentIdOf(16)].join(','));
    expect(byLabel.get('PAYOUT_LINES_MISMATCH po_1')!.detail).to.include({ paidOut: '6099', linesTotal: '6100', difference: '-1', lines: '2' });
    expect(byLabel.get('PAYOUT_LINES_MISMATCH po_1')!.evidence).to.have.length(3);
    expect(byLabel.get('STATEMENT_BALANCE_BREAK S1')!.detail).to.include({ opening: '1000', entries: '400', closing: '1500', difference: '100' });
    expect(byLabel.get(`DUPLICATE_CHARGE ${paymentIdOf(7)}`)!.detail).to.include({ charges: '2', duplicated: '700', currency: 'EUR' });
    expect(byLabel.get(`STATUS_SUPERSEDED ${paymentIdOf(13)}`)!.detail).to.include({ ledgerState: 'FAILED', gross: '1300', currency: 'EUR' });

    // Cleared by later events: the restated row's correction, the payment arriving after its
    // row, the capture of a payment submitted long ago.
    const cleared = (await allDiscrepancies(documents)).filter((discrepancy) => discrepancy.status === 'cleared');
    expect(cleared.map(labelOf).sort()).to.deep.equal(
      [`AMOUNT_MISMATCH ${paymentIdOf(6)}`, 'PROVIDER_UNMATCHED txn_20', `STALE_PENDING ${paymentIdOf(3)}`].sort(),
    );
  });

  it('sums the ledger against the provider per provider and currency, with the open discrepancies by code', async () => {
    await writeScenario(log);
    await catchUp(log, documents);
    const summary = await documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'sandbox:EUR');
    expect(summary).to.not.equal(undefined);
    // Captured: every payment but the failed 13, the stale 14 and the never-captured ones.
    expect(summary!.payments).to.equal(17);
    expect(summary!.open).to.include({ AMOUNT_MISMATCH: 1, DUPLICATE_CHARGE: 1, INTERNAL_UNMATCHED: 1, PROVIDER_UNMATCHED: 1 });
    expect(summary!.awaitingSettlement).to.equal(3);
    expect(summary!.matched).to.equal(13);
    expect(BigInt(summary!.delta)).to.equal(BigInt(summary!.ledgerTotal) - BigInt(summary!.providerTotal));
  });

  it('reports a captured payment as missing once the grace period has passed in the log', async () => {
    await appendPayment(log, { n: 1, amount: 100n, at: new Date(LOG_START).toISOString(), until: 'captured' });
    await catchUp(log, documents);
    expect(await allDiscrepancies(documents)).to.deep.equal([]);

    advance(4 * 24 * 3_600_000);
    await appendPayment(log, { n: 2, amount: 200n, at: new Date(LOG_START).toISOString(), until: 'created' });
    await catchUp(log, documents);
    const found = await allDiscrepancies(documents);
    expect(found.map(labelOf)).to.deep.equal([`INTERNAL_UNMATCHED ${paymentIdOf(1)}`]);
    expect(found[0]!.detail.subclass).to.equal('missing');

    // The provider's row arrives late: the discrepancy is cleared, not deleted.
    await appendRowRecorded(log, { rowKey: 'txn_1', file: 'late', row: chargeRow(1, 100n) }, new Date().toISOString());
    await catchUp(log, documents);
    expect((await allDiscrepancies(documents)).map((discrepancy) => discrepancy.status)).to.deep.equal(['cleared']);
  });

  it('reaches the same state whatever the batch sizes', async () => {
    await writeScenario(log);
    advance(4 * 24 * 3_600_000);
    await appendPayment(log, { n: 99, amount: 9900n, at: new Date(LOG_START).toISOString(), until: 'created' });
    const big = await catchUp(log, documents);
    const small = await catchUp(log, documents, { catchUpBatchSize: 3, suffix: '_small' });
    for (const role of reconciliationProjection.roles)
      expect(await documents.checksum(small[role]!), role).to.equal(await documents.checksum(big[role]!));
  });

  it('rebuilt from position 0 equals the live read model', async () => {
    await writeScenario(log);
    await catchUp(log, documents);
    const report = await rebuildProjection({ eventStore: log, documents, definition: reconciliationProjection, rebuildId: 'r1' });
    expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
  });

  it('follows the exception workflow: acknowledged, assigned, resolved, and no longer counted open', async () => {
    await writeScenario(log);
    await catchUp(log, documents);
    const [ghost] = (await allDiscrepancies(documents)).filter((discrepancy) => discrepancy.code === 'PROVIDER_UNMATCHED' && discrepancy.status === 'open');
    const at = new Date(LOG_START).toISOString();
    const workflow = (type: ReconciliationEvent['type'], data: Record<string, unknown>) =>
      reconciliationCatalog.encode({
        type,
        data: { discrepancyId: ghost!._id, by: 'ops-1', reason: 'checked with the provider', ...data },
        id: randomUUID(),
        version: 1,
        metadata: { $correlationId: 'test', actor: 'ops-1', occurredAt: at },
      } as ReconciliationEvent);
    await log.appendToStream(reconciliationStream(ghost!._id), [
      workflow('DiscrepancyAcknowledged', { acknowledgedAt: at }),
      workflow('DiscrepancyAssigned', { assignee: 'alice', assignedAt: at }),
      workflow('DiscrepancyResolved', { resolution: 'suspense', journalId: '4194304', resolvedAt: at }),
    ]);
    await catchUp(log, documents);
    const resolved = (await allDiscrepancies(documents)).find((discrepancy) => discrepancy._id === ghost!._id)!;
    expect(resolved).to.include({ status: 'resolved', stage: 'resolved', assignee: 'alice' });
    expect(resolved.history.map((entry) => [entry.action, entry.by, entry.reason])).to.deep.equal([
      ['acknowledged', 'ops-1', 'checked with the provider'],
      ['assigned', 'ops-1', 'checked with the provider'],
      ['resolved', 'ops-1', 'checked with the provider'],
    ]);
    const summary = await documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'sandbox:EUR');
    expect(summary!.open.PROVIDER_UNMATCHED).to.equal(undefined);
  });

  it('refuses rules that are not valid', () => {
    expect(() => createReconciliationProjection({ ...defaultReconciliationRules, version: 0 })).to.throw();
    expect(() => createReconciliationProjection({ ...defaultReconciliationRules, dateWindowMs: -1 })).to.throw();
  });
});
