import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { journalStream, reconciliationCatalog, reconciliationStream, systemAccountId, type ReconciliationEvent } from '@folio/shared';
import { createApiHarness, expectProblem, ledgerEvents, readAllEvents, uniqueKey, type ApiHarness } from '../api/apiHarness.js';
import { knownDiscrepancies } from './knownDiscrepancies.js';

const id = 'b'.repeat(32);
/** Found with no currency: its evidence names none. */
const currencyless = '9'.repeat(32);
/** A ghost charge of 10.00 EUR, written off in part. */
const ghost = '6'.repeat(32);
/** The provider charged 9.99 EUR for a payment the ledger captured for 10.00 EUR: 0.01 EUR unexplained. */
const centOff = '8'.repeat(32);
/** A statement of the sequence was never imported: no money is unexplained. */
const gap = '7'.repeat(32);
/** The provider charged a payment of 10.00 EUR twice: 10.00 EUR charged beyond the payment's charge. */
const chargedTwice = '5'.repeat(32);
const path = (action: string, discrepancy = id) => `/v1/reconciliation/discrepancies/${discrepancy}/${action}`;

describe('reconciliation exception workflow over HTTP', () => {
  let harness: ApiHarness;

  before(async () => {
    const open = {};
    harness = await createApiHarness({
      discrepancies: knownDiscrepancies({
        [id]: open,
        ['d'.repeat(32)]: open,
        ['e'.repeat(32)]: open,
        ['f'.repeat(32)]: open,
        [currencyless]: { currency: null },
        [ghost]: open,
        [centOff]: { code: 'AMOUNT_MISMATCH', detail: { paymentId: 'pay_1', captured: '1000', gross: '999', difference: '-1', currency: 'EUR' } },
        [gap]: { code: 'STATEMENT_GAP', detail: { account: 'DE89', missingSequenceNumber: '7' } },
        [chargedTwice]: { code: 'DUPLICATE_CHARGE', detail: { paymentId: 'pay_2', charges: '2', duplicated: '1000', currency: 'EUR' } },
      }),
    });
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
    expect(workflow.map((event) => event.type)).to.deep.equal(['DiscrepancyAcknowledged', 'DiscrepancyAssigned', 'DiscrepancyResolutionStarted', 'DiscrepancyResolved']);
    expect(workflow.map((event) => event.data.by)).to.deep.equal(['anonymous', 'anonymous', 'anonymous', 'anonymous']);
    expect(workflow[2]!.data).to.deep.include({ resolution: 'suspense', journalId, correction: { amount: '777', currency: 'EUR', provider: 'sandbox' } });
    expect(workflow[3]!.data).to.include({ reason: 'no order found', journalId });
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

  it('resolves a discrepancy once when many resolve it at the same time: one journal, one resolution, a 409 for the others', async () => {
    const { api, store } = harness;
    const discrepancy = 'd'.repeat(32);
    const bodies = Array.from({ length: 12 }, (_, index) =>
      index % 2 === 0
        ? { resolution: 'suspense', reason: `ghost charge, desk ${index}`, correction: { amount: '777', currency: 'EUR', provider: 'sandbox' } }
        : { resolution: 'write_off', reason: `never charged, desk ${index}`, correction: { amount: '500', currency: 'EUR', provider: 'sandbox' } },
    );
    const answers = await Promise.all(bodies.map((body) => api.post(path('resolve', discrepancy), body, { key: uniqueKey() })));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses, answers.map((answer) => answer.text).join('\n')).to.deep.equal([200, ...Array(11).fill(409)]);
    for (const answer of answers.filter((one) => one.status === 409)) expect(answer.body.type).to.match(/discrepancy-(already|being)-resolved$/);
    const winner = answers.find((answer) => answer.status === 200)!.body;

    const events = await readAllEvents(store);
    const resolutions = events.filter((event) => event.streamName === reconciliationStream(discrepancy) && event.type === 'DiscrepancyResolved');
    expect(resolutions).to.have.length(1);
    expect(resolutions[0]!.data).to.include({ resolution: winner.resolution, journalId: winner.journalId });
    const journals = events.filter((event) => event.type === 'JournalCompleted' && (event.data as any).metadata?.discrepancyId === discrepancy);
    expect(journals.map((event) => event.streamName)).to.deep.equal([journalStream('correction', winner.journalId)]);
    expect(journals[0]!.data).to.include({ amount: winner.resolution === 'suspense' ? '777' : '500' });
    const postings = events.filter((event) => (event.data as any).journal?.kind === 'correction' && (event.data as any).movement?.metadata?.discrepancyId === discrepancy);
    expect(postings).to.have.length(1);
  });

  const claimResolution = (discrepancy: string, journalId: string, startedAt: string) =>
    harness.store.appendToStream(reconciliationStream(discrepancy), [
      reconciliationCatalog.encode({
        type: 'DiscrepancyResolutionStarted',
        data: { discrepancyId: discrepancy, resolution: 'suspense', journalId, correction: { amount: 300n, currency: 'EUR', provider: 'sandbox' }, by: 'ops-1', reason: 'cut short', startedAt },
        id: randomUUID(),
        version: 1,
        metadata: { $correlationId: 'test', actor: 'ops-1', occurredAt: startedAt },
      } as ReconciliationEvent),
    ]);

  it('refuses to resolve while another request holds a fresh claim (it may still be posting from another process), moving no money', async () => {
    const discrepancy = 'f'.repeat(32);
    await claimResolution(discrepancy, '4194305', new Date().toISOString());
    const books = async () => (await readAllEvents(harness.store)).filter(({ streamName }) => /^(account|journal)-/.test(streamName)).length;
    const before = await books();
    const answer = await harness.api.post(path('resolve', discrepancy), { resolution: 'write_off', reason: 'now', correction: { amount: '50', currency: 'EUR', provider: 'sandbox' } }, { key: uniqueKey() });
    expect(answer.status, answer.text).to.equal(409);
    expect(answer.body.type).to.match(/discrepancy-being-resolved$/);
    expect(await books()).to.equal(before);
    const events = (await readAllEvents(harness.store)).filter(({ streamName }) => streamName === reconciliationStream(discrepancy));
    expect(events.map(({ type }) => type)).to.deep.equal(['DiscrepancyResolutionStarted']);
  });

  it('finishes a resolution another request claimed and abandoned, as it was claimed, and refuses the new one', async () => {
    const { api, store } = harness;
    const discrepancy = 'e'.repeat(32);
    const journalId = '4194304';
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    await claimResolution(discrepancy, journalId, startedAt);
    const answer = await api.post(path('resolve', discrepancy), { resolution: 'write_off', reason: 'later', correction: { amount: '50', currency: 'EUR', provider: 'sandbox' } }, { key: uniqueKey() });
    expect(answer.status, answer.text).to.equal(409);
    expect(answer.body.type).to.match(/discrepancy-already-resolved$/);

    const events = await readAllEvents(store);
    const resolutions = events.filter((event) => event.streamName === reconciliationStream(discrepancy) && event.type === 'DiscrepancyResolved');
    expect(resolutions.map((event) => event.data)).to.have.length(1);
    expect(resolutions[0]!.data).to.include({ resolution: 'suspense', journalId, by: 'ops-1', reason: 'cut short' });
    const journals = events.filter((event) => event.type === 'JournalCompleted' && (event.data as any).metadata?.discrepancyId === discrepancy);
    expect(journals.map((event) => [event.streamName, event.data.amount])).to.deep.equal([[journalStream('correction', journalId), '300']]);
  });

  it('takes a correction in any currency for a discrepancy whose evidence names none', async () => {
    const body = { resolution: 'suspense', reason: 'ghost charge', correction: { amount: '5', currency: 'JPY', provider: 'sandbox' } };
    const resolved = await harness.api.post(path('resolve', currencyless), body, { key: uniqueKey() });
    expect(resolved.status, resolved.text).to.equal(200);
    expect(resolved.body.correction).to.include({ amount: '5', currency: 'JPY' });
  });

  /** The books and the workflow: every event but idempotency records (a remembered refusal writes its own). */
  const books = async () => (await ledgerEvents(harness.store)).length;

  it('refuses a correction larger than what the discrepancy leaves unexplained with a 422 naming that amount, moving no money', async () => {
    const body = { resolution: 'suspense', reason: 'typed too much', correction: { amount: '1000000', currency: 'EUR', provider: 'sandbox' } };
    const before = await books();
    const problem = expectProblem(await harness.api.post(path('resolve', centOff), body, { key: uniqueKey() }), 422, 'correction-exceeds-discrepancy');
    expect(problem).to.include({ field: 'correction.amount', amountAtIssue: '1', currency: 'EUR', correction: '1000000' });
    expect(problem.detail).to.include('1000000').and.to.include(' 1 ').and.to.include('EUR');
    expect(await books(), 'no journal, no workflow event').to.equal(before);
  });

  it('bounds a correction for a duplicate charge by the charge duplicated: refuses more, moving no money, and takes exactly that', async () => {
    const correction = (amount: string) => ({ resolution: 'suspense', reason: 'refund the second charge', correction: { amount, currency: 'EUR', provider: 'sandbox' } });
    const before = await books();
    const problem = expectProblem(await harness.api.post(path('resolve', chargedTwice), correction('1000000'), { key: uniqueKey() }), 422, 'correction-exceeds-discrepancy');
    expect(problem).to.include({ field: 'correction.amount', amountAtIssue: '1000', currency: 'EUR', correction: '1000000' });
    expect(await books(), 'no journal, no workflow event').to.equal(before);
    const resolved = await harness.api.post(path('resolve', chargedTwice), correction('1000'), { key: uniqueKey() });
    expect(resolved.status, resolved.text).to.equal(200);
    expect(resolved.body.correction).to.include({ amount: '1000', currency: 'EUR' });
  });

  it('writes off part of what a discrepancy leaves unexplained, and all of it', async () => {
    const partial = { resolution: 'write_off', reason: 'the rest is being disputed', correction: { amount: '400', currency: 'EUR', provider: 'sandbox' } };
    const resolved = await harness.api.post(path('resolve', ghost), partial, { key: uniqueKey() });
    expect(resolved.status, resolved.text).to.equal(200);
    expect(resolved.body.correction).to.include({ amount: '400', currency: 'EUR' });
    const all = { resolution: 'suspense', reason: 'the cent is the provider\'s', correction: { amount: '1', currency: 'EUR', provider: 'sandbox' } };
    const whole = await harness.api.post(path('resolve', centOff), all, { key: uniqueKey() });
    expect(whole.status, whole.text).to.equal(200);
  });

  it('refuses any correcting journal for a discrepancy that leaves no money unexplained, and takes no_action', async () => {
    const body = { resolution: 'write_off', reason: 'missing statement', correction: { amount: '1', currency: 'EUR', provider: 'sandbox' } };
    const before = await books();
    const problem = expectProblem(await harness.api.post(path('resolve', gap), body, { key: uniqueKey() }), 422, 'correction-exceeds-discrepancy');
    expect(problem).to.include({ amountAtIssue: '0', currency: 'EUR' });
    expect(problem.detail).to.include('STATEMENT_GAP').and.to.include('no_action');
    expect(await books(), 'no journal, no workflow event').to.equal(before);
    const explained = await harness.api.post(path('resolve', gap), { resolution: 'no_action', reason: 'statement 7 imported by hand' }, { key: uniqueKey() });
    expect(explained.status, explained.text).to.equal(200);
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
