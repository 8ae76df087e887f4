import { expect } from 'chai';
import { IDEMPOTENCY_STREAM_PREFIX } from '../../src/idempotency/idempotencyEvents.js';
import { createApiHarness, uniqueKey, type ApiHarness, type ApiServer } from '../api/apiHarness.js';
import { refusingAppendsOver } from './appendSizeLimit.js';

/** Small enough that a batch of a hundred transfers answers with several times as much. */
const MAX_APPEND_BYTES = 64 * 1024;

const BATCH = '/v1/transfers/batch';

describe('write API over HTTP on a store that refuses large appends (EventStoreDB’s MaxAppendSize)', () => {
  let harness: ApiHarness;
  let api: ApiServer;
  let largestIdempotencyAppend: number;

  before(async () => {
    largestIdempotencyAppend = 0;
    harness = await createApiHarness({ eventStoreMaxAppendBytes: MAX_APPEND_BYTES }, (store) =>
      refusingAppendsOver(store, MAX_APPEND_BYTES, (streamName, bytes) => {
        if (streamName.startsWith(IDEMPOTENCY_STREAM_PREFIX)) largestIdempotencyAppend = Math.max(largestIdempotencyAppend, bytes);
      }),
    );
    api = harness.api;
  });
  after(() => harness.close());

  /** Every item echoes a long description (quotes, accents, CJK and an emoji among it) and its metadata. */
  const largeBatch = (accounts: string[], items: number) => ({
    transfers: Array.from({ length: items }, (_, index) => ({
      fromAccountId: accounts[index % accounts.length]!,
      toAccountId: accounts[(index + 1) % accounts.length]!,
      // The last item asks for more than any account holds: a rejection among the answers.
      amount: index === items - 1 ? '99999999' : String(1 + index),
      currency: 'EUR',
      reference: `rent "${index}"`,
      description: `Überweisung Nr. ${index} — 東京 \\ 🚀 `.padEnd(480, 'ß'),
      metadata: { invoice: `INV-${index}`, note: 'ä'.repeat(200) },
    })),
  });

  it('answers a batch whose answer is larger than one append, and replays it byte for byte, writing nothing', async () => {
    const accounts = [];
    for (let i = 0; i < 4; i++) accounts.push(await api.openFundedAccount('1000000'));
    const key = uniqueKey('large-batch');
    const body = largeBatch(accounts, 120);

    const first = await api.post(BATCH, body, { key });
    expect(first.status, first.text.slice(0, 500)).to.equal(200);
    expect(Buffer.byteLength(first.text)).to.be.greaterThan(3 * MAX_APPEND_BYTES);
    const statuses = first.body.results.map((result: { status: number }) => result.status);
    expect(statuses.slice(0, -1).every((status: number) => status === 201)).to.equal(true);
    expect(statuses.at(-1)).to.equal(422);
    expect(largestIdempotencyAppend).to.be.within(1, MAX_APPEND_BYTES);

    for (let retry = 0; retry < 2; retry++) {
      const replay = await harness.expectNothingWritten(() => api.post(BATCH, body, { key }));
      expect(replay.status).to.equal(200);
      expect(replay.headers['idempotent-replayed']).to.equal('true');
      expect(replay.headers['content-type']).to.equal(first.headers['content-type']);
      expect(replay.text === first.text, 'the replayed body is the first one, byte for byte').to.equal(true);
    }
  });
});
