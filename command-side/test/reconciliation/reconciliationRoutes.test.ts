import { expect } from 'chai';
import { journalStream, reconciliationStream, systemAccountId } from '@folio/shared';
import { createApiHarness, readAllEvents, uniqueKey, type ApiHarness } from '../api/apiHarness.js';

const id = 'b'.repeat(32);
const path = (action: string, discrepancy = id) => `/v1/reconciliation/discrepancies/${discrepancy}/${action}`;

describe('reconciliation exception workflow over HTTP', () => {
  let harness: ApiHarness;

  before(async () => {
    harness = await createApiHarness();
  });
  after(() => harness.close());

  it('acknowledges, assigns and resolves with a correcting journal to suspense, each recorded with who and why', async () => {
    const { api, store } = harness;
    const acknowledged = await api.post(path('acknowledge'), { reason: 'ghost charge seen' }, { key: uniqueKey() });
    expect(acknowledged.status, acknowledged.text).to.equal(200);
    expect(acknowledged.body).to.include({ id, acknowledged: true, assignee: null });
    const assigned = await api.post(path('assign'), { assignee: 'alice', reason: 'she owns the provider' }, { key: uniqueKey() });
    expect(assigned.body.assignee).to.equal('alice');

    const key = uniqueKey();
    const body = { resolution: 'suspense', reason: 'no order found', correction: { amount: '777', currency: 'EUR', provider: 'sandbox' } };
    const resolved = await api.post(path('resolve'), body, { key });
    expect(resolved.status, resolved.text).to.equal(200);
    expect(resolved.body).to.include({ resolution: 'suspense' });
    const journalId = resolved.body.journalId;
    expect(resolved.body.correction).to.deep.equal({ journal: journalStream('correction', journalId), amount: '777', currency: 'EUR' });
    // Retried with the same key: the same answer, no second journal.
    expect((await api.post(path('resolve'), body, { key })).body).to.deep.equal(resolved.body);

    const events = await readAllEvents(store);
    const workflow = events.filter((event) => event.streamName === reconciliationStream(id));
    expect(workflow.map((event) => event.type)).to.deep.equal(['DiscrepancyAcknowledged', 'DiscrepancyAssigned', 'DiscrepancyResolved']);
    expect(workflow.map((event) => event.data.by)).to.deep.equal(['anonymous', 'anonymous', 'anonymous']);
    expect(workflow[2]!.data).to.include({ reason: 'no order found', journalId });
    const postings = events.filter((event) => (event.data as any).journal?.id === journalId);
    expect(postings.map((event) => [event.type, event.data.accountId])).to.deep.equal([
      ['AccountDebited', systemAccountId({ role: 'provider_clearing', currency: 'EUR', provider: 'sandbox' })],
      ['AccountCredited', systemAccountId({ role: 'suspense', currency: 'EUR' })],
    ]);
    expect(events.filter((event) => event.streamName === journalStream('correction', journalId)).map((event) => event.type)).to.deep.equal(['JournalCompleted']);

    const again = await api.post(path('resolve'), { resolution: 'no_action', reason: 'twice' }, { key: uniqueKey() });
    expect(again.status, again.text).to.equal(409);
    expect(again.body.type).to.match(/discrepancy-already-resolved$/);
  });

  const bad: [string, string, unknown, string][] = [
    ['no reason', 'acknowledge', {}, 'body.reason'],
    ['a blank reason', 'acknowledge', { reason: '  ' }, 'body.reason'],
    ['no assignee', 'assign', { reason: 'x' }, 'body.assignee'],
    ['an unknown resolution', 'resolve', { resolution: 'ignore', reason: 'x' }, 'body.resolution'],
    ['a write-off without its journal', 'resolve', { resolution: 'write_off', reason: 'x' }, 'body.correction'],
    ['a decimal amount', 'resolve', { resolution: 'suspense', reason: 'x', correction: { amount: '7.5', currency: 'EUR', provider: 'sandbox' } }, 'body.correction.amount'],
  ];
  for (const [what, action, body, field] of bad)
    it(`refuses ${what} with a 400 naming ${field}, writing nothing`, async () => {
      const response = await harness.expectNothingWritten(() => harness.api.post(path(action, 'c'.repeat(32)), body, { key: uniqueKey() }));
      expect(response.status, response.text).to.equal(400);
      expect(response.body.errors.map((issue: { path: string }) => issue.path)).to.include(field);
    });

  it('refuses an id that is not a discrepancy id', async () => {
    const response = await harness.expectNothingWritten(() => harness.api.post(path('acknowledge', 'nope'), { reason: 'x' }, { key: uniqueKey() }));
    expect(response.status).to.equal(400);
  });
});
