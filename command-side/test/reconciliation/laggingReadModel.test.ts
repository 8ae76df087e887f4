import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openSqliteDocumentStore, type Document, type DocumentStore, type GlobalPosition } from '@folio/shared';
import { liveCollections, reconciliationProjection, type ProjectorStatus, type ReadModelProgress } from '@folio/projections';
import { readModelDiscrepancies } from '../../src/reconciliation/readModelDiscrepancies.js';
import { ApiServer, expectProblem, ledgerEvents, openTempStore, uniqueKey, type TempStore } from '../api/apiHarness.js';

const discrepancies = liveCollections(reconciliationProjection).discrepancies!;
const path = (id: string, action = 'resolve') => `/v1/reconciliation/discrepancies/${id}/${action}`;
const suspense = (amount: string) => ({ resolution: 'suspense', reason: 'ghost charge', correction: { amount, currency: 'EUR', provider: 'sandbox' } });

/** A ghost charge of 10.00 EUR as the reconciliation read model stores it. */
const ghostCharge = (id: string, status = 'open') => ({
  _id: id,
  code: 'PROVIDER_UNMATCHED',
  status,
  provider: 'sandbox',
  currency: 'EUR',
  detail: { rowKey: `txn_${id.slice(0, 4)}`, gross: '1000', currency: 'EUR' },
});

/**
 * The reconciliation projector's progress, held at `position` as if it were stopped. When a
 * reader waits for it, `catchUp` (if set) runs, as the projector applying the events it had not
 * yet applied; without it the wait runs out.
 */
const laggingProgress = (projector: { position: GlobalPosition | undefined; catchUp?: (() => Promise<void>) | undefined }): ReadModelProgress => {
  const status = (): ProjectorStatus[] => [
    { name: reconciliationProjection.name, position: projector.position, caughtUp: true, lastEventAt: undefined, filter: reconciliationProjection.filter },
  ];
  const reached = (target: GlobalPosition) => projector.position !== undefined && projector.position >= target;
  return {
    status,
    waitFor: async (target, timeoutMs) => {
      if (reached(target) || timeoutMs === 0) return reached(target);
      const catchUp = projector.catchUp;
      projector.catchUp = undefined;
      if (catchUp === undefined) await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      else await catchUp();
      return reached(target);
    },
  };
};

describe('the exception workflow on a reconciliation read model behind the log', () => {
  let temp: TempStore;
  let documents: DocumentStore;
  let api: ApiServer;
  const projector: { position: GlobalPosition | undefined; catchUp?: (() => Promise<void>) | undefined } = { position: undefined };

  /** An event the reconciliation read model takes (`statementrow-*`), or one it skips (`device-*`). */
  const append = async (stream: string) => (await temp.store.appendToStream(stream, [{ id: randomUUID(), type: 'Noted', data: {} }])).position;
  const books = async () => (await ledgerEvents(temp.store)).length;
  /** What the read model stores for a discrepancy, as the projector writes it. */
  const show = (discrepancy: Document) => documents.withTransaction((session) => session.put(discrepancies, discrepancy));

  before(async () => {
    temp = openTempStore();
    documents = openSqliteDocumentStore({ path: join(mkdtempSync(join(tmpdir(), 'folio-recon-lag-')), 'readmodels.sqlite') });
    const lookup = readModelDiscrepancies({ documents, progress: laggingProgress(projector), log: temp.store, waitMs: 300 });
    api = await ApiServer.start(temp.store, { discrepancies: lookup });
  });
  after(async () => {
    await api.stop();
    await documents.close();
    await temp.dispose();
  });

  beforeEach(async () => {
    // The projector has applied everything so far: each test moves the log on from here.
    projector.position = await temp.store.headPosition();
    projector.catchUp = undefined;
  });

  it('judges a resolution on the read model once it has caught up: a discrepancy a later event cleared is refused, moving no money', async () => {
    const id = '1'.repeat(32);
    await show(ghostCharge(id));
    // The missing statement row arrives; the projector has not applied it when the operator resolves.
    const row = await append(`statementrow-${randomUUID()}`);
    projector.catchUp = async () => {
      await show(ghostCharge(id, 'cleared'));
      projector.position = row;
    };
    const before = await books();
    const problem = expectProblem(await api.post(path(id), suspense('1000'), { key: uniqueKey() }), 409, 'discrepancy-not-open');
    expect(problem.currentState).to.equal('cleared');
    expect(await books(), 'no journal, no workflow event').to.equal(before);
  });

  it('answers 503 read-model-behind, writing nothing, while the read model stays behind the log past the bound', async () => {
    const id = '2'.repeat(32);
    await show(ghostCharge(id));
    await append(`statementrow-${randomUUID()}`);
    const before = await books();
    for (const [action, body] of [
      ['resolve', suspense('1000')],
      ['acknowledge', { reason: 'looking' }],
    ] as const) {
      const answer = await api.post(path(id, action), body, { key: uniqueKey() });
      expectProblem(answer, 503, 'read-model-behind');
      expect(answer.headers['retry-after'], action).to.equal('1');
      expect(answer.body.detail, action).to.contain('could act on a discrepancy that later events changed or cleared');
    }
    expect(await books(), 'no journal, no workflow event').to.equal(before);
  });

  it('judges at once on a read model that has every event it takes, though the log has moved on with events it skips', async () => {
    const id = '3'.repeat(32);
    await show(ghostCharge(id));
    await append(`device-${randomUUID()}`);
    const resolved = await api.post(path(id), suspense('1000'), { key: uniqueKey() });
    expect(resolved.status, resolved.text).to.equal(200);
    expect(resolved.body.correction).to.include({ amount: '1000', currency: 'EUR' });
  });
});
