import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { journalStream, reconciliationCatalog, reconciliationStream, type ReconciliationEvent } from '@folio/shared';
import { createApiHarness, readAllEvents, uniqueKey, type ApiHarness } from '../api/apiHarness.js';
import { knownDiscrepancies } from './knownDiscrepancies.js';

const path = (discrepancy: string) => `/v1/reconciliation/discrepancies/${discrepancy}/resolve`;
/** The largest balance an account may reach, in minor units. */
const BOUND = (10n ** 18n - 1n).toString();

/**
 * Correcting journals refused by an account: the store is this file's own, and its USD system
 * accounts are pushed to their bound so that a further posting is refused.
 */
describe('reconciliation resolutions whose correcting journal does not post', () => {
  let harness: ApiHarness;

  before(async () => {
    const sandboxUsd = { provider: 'sandbox', currency: 'USD' };
    harness = await createApiHarness({
      discrepancies: knownDiscrepancies({
        // A ghost charge as large as an account may hold: its correction fills the accounts.
        ['0'.repeat(32)]: { ...sandboxUsd, detail: { rowKey: 'txn_fill', gross: BOUND, currency: 'USD' } },
        ['1'.repeat(32)]: { provider: 'stripe', currency: 'USD' },
        // Its evidence names no currency: a correction may go in any.
        ['2'.repeat(32)]: { provider: 'sandbox', currency: null },
        ['3'.repeat(32)]: sandboxUsd,
      }),
    });
    // sandbox clearing at −BOUND (a debit from it is refused), suspense at +BOUND (a credit to it is refused).
    const filled = await harness.api.post(
      path('0'.repeat(32)),
      { resolution: 'suspense', reason: 'fill', correction: { amount: BOUND, currency: 'USD', provider: 'sandbox' } },
      { key: uniqueKey() },
    );
    expect(filled.status, filled.text).to.equal(200);
  });
  after(() => harness.close());

  const workflowOf = async (discrepancy: string) =>
    (await readAllEvents(harness.store)).filter(({ streamName }) => streamName === reconciliationStream(discrepancy));
  const postingsOf = async (journalId: string) =>
    (await readAllEvents(harness.store)).filter((event) => (event.data as { journal?: { id?: string } }).journal?.id === journalId);

  it('records no resolution when the second leg is refused: the first is reversed, the claim released, and the caller told why', async () => {
    const discrepancy = '1'.repeat(32);
    const key = uniqueKey();
    const body = { resolution: 'suspense', reason: 'ghost charge', correction: { amount: '5', currency: 'USD', provider: 'stripe' } };
    const failed = await harness.api.post(path(discrepancy), body, { key });
    expect(failed.status, failed.text).to.equal(422);
    expect(failed.body.type).to.match(/correcting-journal-failed$/);
    expect(failed.body.failureReason.type).to.equal('balance-out-of-range');
    const { journalId } = failed.body;
    expect((await postingsOf(journalId)).map((event) => [event.type, (event.data as { journal: { leg: string } }).journal.leg])).to.deep.equal([
      ['AccountDebited', 'first'],
      ['AccountCredited', 'reversal'],
    ]);
    const events = await readAllEvents(harness.store);
    expect(events.filter(({ streamName }) => streamName === journalStream('correction', journalId)).map(({ type }) => type)).to.deep.equal(['JournalFailed']);
    const workflow = await workflowOf(discrepancy);
    expect(workflow.map(({ type }) => type)).to.deep.equal(['DiscrepancyResolutionStarted', 'DiscrepancyResolutionFailed']);
    expect(workflow[1]!.data).to.deep.include({ journalId, failure: failed.body.failureReason, reason: 'ghost charge' });
    // Retried with the same key: the same answer, nothing new.
    const retried = await harness.api.post(path(discrepancy), body, { key });
    expect({ status: retried.status, body: retried.body }).to.deep.equal({ status: 422, body: failed.body });

    const resolved = await harness.api.post(path(discrepancy), { resolution: 'no_action', reason: 'explained after all' }, { key: uniqueKey() });
    expect(resolved.status, resolved.text).to.equal(200);
    expect(resolved.body).to.include({ resolution: 'no_action', journalId: null });
  });

  it('releases the claim when the first leg is refused, with nothing posted, so that another resolution goes through', async () => {
    const discrepancy = '2'.repeat(32);
    const body = { resolution: 'suspense', reason: 'ghost charge', correction: { amount: '5', currency: 'USD', provider: 'sandbox' } };
    const refused = await harness.api.post(path(discrepancy), body, { key: uniqueKey() });
    expect(refused.status, refused.text).to.equal(422);
    expect(refused.body.type).to.match(/correcting-journal-failed$/);
    expect(refused.body.failureReason.type).to.equal('balance-out-of-range');
    expect(await postingsOf(refused.body.journalId)).to.deep.equal([]);
    expect((await workflowOf(discrepancy)).map(({ type }) => type)).to.deep.equal(['DiscrepancyResolutionStarted', 'DiscrepancyResolutionFailed']);

    // In EUR: the next test needs the sandbox's USD clearing account left at its bound.
    const writeOff = { resolution: 'write_off', reason: 'never charged', correction: { amount: '5', currency: 'EUR', provider: 'sandbox' } };
    const resolved = await harness.api.post(path(discrepancy), writeOff, { key: uniqueKey() });
    expect(resolved.status, resolved.text).to.equal(200);
    expect(resolved.body).to.include({ resolution: 'write_off' });
    expect((await workflowOf(discrepancy)).map(({ type }) => type)).to.deep.equal([
      'DiscrepancyResolutionStarted',
      'DiscrepancyResolutionFailed',
      'DiscrepancyResolutionStarted',
      'DiscrepancyResolved',
    ]);
  });

  it('releases an abandoned claim whose journal is refused when taking it over, and goes on with the new resolution', async () => {
    const discrepancy = '3'.repeat(32);
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    await harness.store.appendToStream(reconciliationStream(discrepancy), [
      reconciliationCatalog.encode({
        type: 'DiscrepancyResolutionStarted',
        data: { discrepancyId: discrepancy, resolution: 'suspense', journalId: '4194304', correction: { amount: 5n, currency: 'USD', provider: 'sandbox' }, by: 'ops-1', reason: 'cut short', startedAt },
        id: randomUUID(),
        version: 1,
        metadata: { $correlationId: 'test', actor: 'ops-1', occurredAt: startedAt },
      } as ReconciliationEvent),
    ]);
    const resolved = await harness.api.post(path(discrepancy), { resolution: 'no_action', reason: 'explained' }, { key: uniqueKey() });
    expect(resolved.status, resolved.text).to.equal(200);
    expect(resolved.body).to.include({ resolution: 'no_action' });
    const workflow = await workflowOf(discrepancy);
    expect(workflow.map(({ type }) => type)).to.deep.equal(['DiscrepancyResolutionStarted', 'DiscrepancyResolutionFailed', 'DiscrepancyResolved']);
    expect(workflow[1]!.data).to.deep.include({ journalId: '4194304', by: 'ops-1', reason: 'cut short' });
    expect(await postingsOf('4194304')).to.deep.equal([]);
  });
});
