import { expect } from 'chai';
import { collect, journalStream, reconciliationStream } from '@folio/shared';
import { startFolioInProcess, type RunningFolio } from './fixtures/inProcessFolio.js';

/** The sandbox's report of two charges no payment explains; the second's net is `net`. */
const report = (net: string) =>
  [
    'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,charge_id,payment_intent_id,description',
    'txn_ghost_1,2026-06-01 10:00:00,eur,7.77,0.00,7.77,charge,ch_ghost_1,pi_ghost_1,a charge with no order',
    `txn_ghost_2,2026-06-01 11:00:00,eur,5.00,0.10,${net},charge,ch_ghost_2,pi_ghost_2,another charge with no order`,
    '',
  ].join('\n');

interface Discrepancy {
  id: string;
  code: string;
  status: string;
  detail: Record<string, string>;
}

/**
 * The exception workflow of the running system on the discrepancies its reconciliation projection
 * found: it acts only on one the read model shows open, and moves money only in its currency and
 * through its provider. A refused request leaves no workflow event and posts no journal.
 */
describe('the reconciliation exception workflow on the discrepancies the read model found', function () {
  this.timeout(30_000);
  let running: RunningFolio;
  let discrepancies: Discrepancy[];
  let keys = 0;

  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${running.baseUrl}${path}`, {
      method,
      headers: { ...running.auth, ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'text/csv' : 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const importReport = async (csv: string, fileName: string): Promise<string> => {
    const imported = await send('POST', `/v1/statements?provider=sandbox&format=stripe-balance&fileName=${fileName}`, csv);
    expect(imported.status, JSON.stringify(imported.body)).to.equal(201);
    return imported.body.position;
  };
  const act = (id: string, action: string, body: unknown) =>
    send('POST', `/v1/reconciliation/discrepancies/${id}/${action}`, body, { 'idempotency-key': `workflow-${++keys}` });
  const found = (code: string, status: string, rowKey: string): Discrepancy => {
    const discrepancy = discrepancies.find((one) => one.code === code && one.status === status && one.detail.rowKey === rowKey);
    expect(discrepancy, `${code} ${status} ${rowKey}`).to.not.equal(undefined);
    return discrepancy!;
  };

  const eventsOf = async (streamName: string) => (await collect(running.system.eventStore.readAll())).filter((event) => event.streamName === streamName);
  const correctionJournals = async () =>
    new Set((await collect(running.system.eventStore.readAll())).map(({ streamName }) => streamName).filter((name) => name.startsWith('journal-correction-')));

  /** Sends a request that must be refused, and checks it wrote nothing to the discrepancy's stream nor posted a journal. */
  const refused = async (id: string, action: string, body: unknown, status: number, type: string) => {
    const journals = await correctionJournals();
    const answer = await act(id, action, body);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(status);
    expect(answer.body.type).to.equal(`urn:folio:problem:${type}`);
    expect(await eventsOf(reconciliationStream(id)), 'workflow events').to.deep.equal([]);
    expect(await correctionJournals(), 'correcting journals').to.deep.equal(journals);
    return answer.body;
  };

  before(async () => {
    running = await startFolioInProcess('folio-recon-workflow-');
    await importReport(report('4.80'), 'first.csv');
    // Restated with a net that adds up: the net inconsistency is cleared.
    const position = await importReport(report('4.90'), 'restated.csv');
    discrepancies = (await send('GET', `/v1/reconciliation/discrepancies?limit=100&position=${position}`)).body.items;
  });

  after(() => running.stop());

  it('refuses an id the read model does not know with a 404 naming it', async () => {
    const unknown = '0'.repeat(32);
    const body = { resolution: 'suspense', reason: 'who knows', correction: { amount: '100', currency: 'EUR', provider: 'sandbox' } };
    const problem = await refused(unknown, 'resolve', body, 404, 'discrepancy-not-found');
    expect(problem.detail).to.include(unknown);
    await refused(unknown, 'acknowledge', { reason: 'looking' }, 404, 'discrepancy-not-found');
  });

  it('refuses every step on a discrepancy later events cleared with a 409 naming its status, a no_action resolution too', async () => {
    const cleared = found('NET_INCONSISTENT', 'cleared', 'txn_ghost_2');
    const steps: [string, unknown][] = [
      ['acknowledge', { reason: 'looking' }],
      ['assign', { assignee: 'alice', reason: 'hers' }],
      ['resolve', { resolution: 'no_action', reason: 'explained' }],
      ['resolve', { resolution: 'write_off', reason: 'cost', correction: { amount: '10', currency: 'EUR', provider: 'sandbox' } }],
    ];
    for (const [action, body] of steps) {
      const problem = await refused(cleared.id, action, body, 409, 'discrepancy-not-open');
      expect(problem.detail, action).to.include('cleared');
      expect(problem.currentState).to.equal('cleared');
    }
  });

  it("refuses a correction in another currency than the discrepancy's with a 422 naming both", async () => {
    const ghost = found('PROVIDER_UNMATCHED', 'open', 'txn_ghost_1');
    const body = { resolution: 'suspense', reason: 'ghost charge', correction: { amount: '777', currency: 'USD', provider: 'sandbox' } };
    const problem = await refused(ghost.id, 'resolve', body, 422, 'correction-mismatch');
    expect(problem).to.include({ field: 'correction.currency', discrepancy: 'EUR', correction: 'USD' });
    expect(problem.detail).to.include('currency').and.to.include('EUR').and.to.include('USD');
  });

  it("refuses a correction through another provider than the discrepancy's with a 422 naming both", async () => {
    const ghost = found('PROVIDER_UNMATCHED', 'open', 'txn_ghost_1');
    const body = { resolution: 'suspense', reason: 'ghost charge', correction: { amount: '777', currency: 'EUR', provider: 'stripe' } };
    const problem = await refused(ghost.id, 'resolve', body, 422, 'correction-mismatch');
    expect(problem).to.include({ field: 'correction.provider', discrepancy: 'sandbox', correction: 'stripe' });
    expect(problem.detail).to.include('provider').and.to.include('sandbox').and.to.include('stripe');
  });

  it('resolves an open discrepancy with its correcting journal, then refuses it once the read model shows it resolved', async () => {
    const ghost = found('PROVIDER_UNMATCHED', 'open', 'txn_ghost_2');
    const body = { resolution: 'suspense', reason: 'ghost charge', correction: { amount: '500', currency: 'EUR', provider: 'sandbox' } };
    const resolved = await act(ghost.id, 'resolve', body);
    expect(resolved.status, JSON.stringify(resolved.body)).to.equal(200);
    expect(resolved.body).to.include({ id: ghost.id, resolution: 'suspense' });
    const journal = journalStream('correction', resolved.body.journalId);
    expect((await eventsOf(journal)).map(({ type }) => type)).to.deep.equal(['JournalCompleted']);
    expect((await eventsOf(reconciliationStream(ghost.id))).map(({ type }) => type)).to.deep.equal(['DiscrepancyResolutionStarted', 'DiscrepancyResolved']);

    const read = await send('GET', `/v1/reconciliation/discrepancies/${ghost.id}?position=${resolved.body.position}`);
    expect(read.body).to.include({ status: 'resolved' });
    const problem = await act(ghost.id, 'acknowledge', { reason: 'too late' });
    expect(problem.status, JSON.stringify(problem.body)).to.equal(409);
    expect(problem.body.type).to.equal('urn:folio:problem:discrepancy-not-open');
    expect(problem.body.detail).to.include('resolved');
    expect(await eventsOf(reconciliationStream(ghost.id)), 'nothing more on its stream').to.have.length(2);
  });
});
