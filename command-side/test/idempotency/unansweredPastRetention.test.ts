import { expect } from 'chai';
import { accountStream } from '@folio/shared';
import {
  createApiHarness,
  expectBooksBalanced,
  expectProblem,
  failingAppendsTo,
  ledgerEvents,
  type ApiHarness,
  type ApiServer,
} from '../api/apiHarness.js';

const HOUR = 60 * 60 * 1000;

describe('write API over HTTP: a transfer never answered, retried with its key past the key’s retention', () => {
  let harness: ApiHarness;
  let api: ApiServer;
  let now: number;
  const failing: { stream: string | undefined } = { stream: undefined };

  before(async () => {
    now = Date.now();
    harness = await createApiHarness({ clock: () => new Date(now), idempotencyRetentionMs: HOUR }, (store) =>
      failingAppendsTo(store, () => failing.stream),
    );
    api = harness.api;
  });
  after(() => harness.close());

  it('answers the transfer its first run started and moves its money once', async () => {
    const from = await api.openFundedAccount('1000');
    const to = (await api.openAccount()).id as string;
    failing.stream = accountStream(to);
    // Debited, then the credit failed: the money is in transit and the answer tells the caller to retry.
    expectProblem(await api.transfer(from, to, '300', { key: 'rent-may' }), 503, 'store-unavailable');
    expect((await api.account(from)).balance.posted).to.equal('700');
    failing.stream = undefined;

    now += HOUR + 1;
    const retried = await api.transfer(from, to, '300', { key: 'rent-may' });
    now += HOUR - 1;
    const again = await api.transfer(from, to, '300', { key: 'rent-may' });

    expect(retried.status, retried.text).to.equal(201);
    expect(retried.body.status).to.equal('completed');
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(again.body).to.deep.equal(retried.body);
    const debits = (await ledgerEvents(harness.store)).filter((event) => event.type === 'AccountDebited' && event.streamName === accountStream(from));
    expect(debits.map((event) => (event.data as { journal: { id: string } }).journal.id)).to.deep.equal([retried.body.id]);
    expect((await api.account(from)).balance.posted).to.equal('700');
    expect((await api.account(to)).balance.posted).to.equal('300');
    const report = await expectBooksBalanced(harness.store);
    expect(report.openJournals).to.equal(0);
  });
});
