import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  accountStream,
  chainEventStore,
  collect,
  computeEventHash,
  createAuditRuntime,
  deterministicEventId,
  generatedSigner,
  openSqliteEventStore,
  ProtectedStreamError,
  verifyEventStore,
  WrongExpectedRevisionError,
  type EventStore,
  type AppendResult,
  type EventToAppend,
} from '../../src/index.js';
import { decorateEventStore } from '../../src/eventStore/decorateEventStore.js';
import { BANK, openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';

const event = (type = 'Noted', data: Record<string, string> = {}): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  metadata: { occurredAt: '2026-01-01T00:00:00.000Z' },
});

describe('audit: hash-chained streams', () => {
  let audit: AuditStore;
  beforeEach(() => {
    audit = openAuditStore();
  });
  afterEach(() => audit.dispose());

  it("links each event of a ledger stream to its predecessor's hash and leaves other streams alone", async () => {
    const stream = accountStream('1000001');
    await audit.store.appendToStream(stream, [event(), event()], { expectedRevision: 'no_stream' });
    await audit.store.appendToStream(stream, [event()], { expectedRevision: 1n });
    await audit.store.appendToStream('idempotency-x', [event()]);
    const events = await collect(audit.raw.readStream(stream));
    expect(events.map((recorded) => recorded.metadata?.$prevHash)).to.deep.equal([
      null,
      events[0]!.metadata?.$hash,
      events[1]!.metadata?.$hash,
    ]);
    for (const recorded of events) {
      expect(recorded.metadata?.$hash).to.equal(computeEventHash(recorded, (recorded.metadata?.$prevHash as string | null) ?? null));
    }
    const [other] = await collect(audit.raw.readStream('idempotency-x'));
    expect(other!.metadata).to.deep.equal({ occurredAt: '2026-01-01T00:00:00.000Z' });
    expect((await verifyEventStore(audit.store)).ok).to.equal(true);
  });

  it("chains concurrent 'any' appends from two processes to one system account in the order they landed", async () => {
    const other = openSqliteEventStore({ path: audit.path });
    try {
      const second = chainEventStore(other);
      const stream = accountStream(BANK);
      await Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          (index % 2 === 0 ? audit.store : second).appendToStream(stream, [event('Noted', { n: String(index) })], {
            expectedRevision: 'any',
          }),
        ),
      );
      const events = await collect(audit.raw.readStream(stream));
      expect(events).to.have.length(40);
      const report = await verifyEventStore(audit.store);
      expect(report.problems).to.deep.equal([]);
      expect(report.chainedEvents).to.equal(40);
    } finally {
      await other.close();
    }
  });

  it("keeps the store's answers: an 'any' retry of the latest batch writes nothing, a stale revision conflicts", async () => {
    const stream = accountStream('1000002');
    const batch = [event(), event()];
    const first = await audit.store.appendToStream(stream, batch, { expectedRevision: 'any' });
    const again = await audit.store.appendToStream(stream, batch, { expectedRevision: 'any' });
    expect(again).to.deep.equal({ ...first, written: false });
    expect(await collect(audit.raw.readStream(stream))).to.have.length(2);
    const error = await audit.store.appendToStream(stream, [event()], { expectedRevision: 0n }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(WrongExpectedRevisionError);
    const retried = await audit.store.appendToStream(stream, batch, { expectedRevision: 'no_stream' });
    expect(retried).to.deep.equal({ ...first, written: false });
  });

  it("links to the stored event after a 'no_stream' retry that carried other metadata, from this or a fresh process", async () => {
    const stream = accountStream('1000004');
    const outcome = event('Ended');
    const first = await audit.store.appendToStream(stream, [outcome], { expectedRevision: 'no_stream' });
    for (const store of [audit.store, chainEventStore(audit.raw)]) {
      const retry = { ...outcome, metadata: { occurredAt: '2026-01-02T00:00:00.000Z' } };
      expect(await store.appendToStream(stream, [retry], { expectedRevision: 'no_stream' })).to.deep.equal({ ...first, written: false });
    }
    const fresh = chainEventStore(audit.raw);
    const retry = { ...outcome, metadata: { occurredAt: '2026-01-03T00:00:00.000Z' } };
    expect(await fresh.appendToStream(stream, [retry], { expectedRevision: 'no_stream' })).to.deep.equal({ ...first, written: false });
    await fresh.appendToStream(stream, [event()], { expectedRevision: 'any' });
    await audit.store.appendToStream(stream, [event()], { expectedRevision: 'any' });
    const error = await fresh.appendToStream(stream, [event()], { expectedRevision: 'no_stream' }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(WrongExpectedRevisionError);
    expect(await collect(audit.raw.readStream(stream))).to.have.length(3);
    expect((await verifyEventStore(audit.store)).problems).to.deep.equal([]);
  });

  it('appends a burst larger than the ids it remembers at an exact revision without reading the stream again', async () => {
    let reads = 0;
    const counted = chainEventStore(
      decorateEventStore(audit.raw, {
        readStream: (streamName, options) => {
          reads++;
          return audit.raw.readStream(streamName, options);
        },
      }),
    );
    const stream = accountStream('1000005');
    const burst = () => Array.from({ length: 100 }, () => event());
    await counted.appendToStream(stream, [event()], { expectedRevision: 'no_stream' });
    const second = await counted.appendToStream(stream, burst(), { expectedRevision: 0n });
    expect(reads).to.equal(1);
    await counted.appendToStream(stream, burst(), { expectedRevision: second.nextExpectedRevision });
    expect(reads).to.equal(1);
    const retried = await counted.appendToStream(stream, burst(), { expectedRevision: 'any' });
    expect(retried.nextExpectedRevision).to.equal(300n);
    expect((await verifyEventStore(audit.store)).problems).to.deep.equal([]);
  });

  it("links to the stored event when the store answers an append as another process's append of the same ids", async () => {
    const stream = accountStream('1000006');
    await audit.store.appendToStream(stream, [event()], { expectedRevision: 'no_stream' });
    await audit.store.appendToStream(stream, [event()], { expectedRevision: 0n });
    // One command, retried through two processes: the same derived id, other metadata.
    const id = deterministicEventId(stream, 'command-1', '0');
    const retried = (correlation: string): EventToAppend => ({ ...event('Noted', { n: '2' }), id, metadata: { $correlationId: correlation } });
    const first = await chainEventStore(audit.raw).appendToStream(stream, [retried('other')], { expectedRevision: 1n });
    expect(await audit.store.appendToStream(stream, [retried('this')], { expectedRevision: 1n })).to.deep.equal({ ...first, written: false });
    await audit.store.appendToStream(stream, [event()], { expectedRevision: 2n });
    await audit.store.appendToStream(stream, [event()], { expectedRevision: 'any' });
    expect(await collect(audit.raw.readStream(stream))).to.have.length(5);
    expect((await verifyEventStore(audit.store)).problems).to.deep.equal([]);
  });

  it('reads the tail back after an append of derived ids only where the store cannot say it wrote them', async () => {
    const counting = (answer: (result: AppendResult) => AppendResult) => {
      const counter = { reads: 0 };
      const store = chainEventStore(
        decorateEventStore(audit.raw, {
          readStream: (streamName, options) => {
            counter.reads++;
            return audit.raw.readStream(streamName, options);
          },
          appendToStream: async (streamName, events, options) => answer(await audit.raw.appendToStream(streamName, events, options)),
        }),
      );
      return { store, counter };
    };
    const derived = (stream: string, n: number): EventToAppend => ({ ...event(), id: deterministicEventId(stream, 'command', String(n)) });
    const appendThree = async (store: EventStore, stream: string) => {
      await store.appendToStream(stream, [event()], { expectedRevision: 'no_stream' });
      for (let n = 0; n < 3; n++) await store.appendToStream(stream, [derived(stream, n)], { expectedRevision: BigInt(n) });
    };
    const embedded = counting((result) => result);
    await appendThree(embedded.store, accountStream('1000008'));
    // A stream appended as new is not remembered: its tail is read once, before the first derived append.
    expect(embedded.counter.reads, 'the store wrote them: the hashes are the ones computed').to.equal(1);
    // EventStoreDB answers a repeat of another writer's append as it answered the original.
    const unknowing = counting(({ written: _written, ...result }) => result);
    await appendThree(unknowing.store, accountStream('1000009'));
    expect(unknowing.counter.reads, 'and one read of the stored tail after each').to.equal(4);
    expect((await verifyEventStore(audit.store)).problems).to.deep.equal([]);
  });

  it('keeps the checkpoint chain when another process checkpointed the same head first (an export while the server runs)', async () => {
    const signer = generatedSigner();
    let now = Date.UTC(2026, 0, 1);
    const server = createAuditRuntime({ eventStore: audit.store, signer, clock: () => new Date(now) });
    const put = (n: number) => audit.store.appendToStream(accountStream(String(2_000_000 + n)), [event()], { expectedRevision: 'no_stream' });
    await put(1);
    await server.runOnce({ force: true });
    await put(2);
    await server.runOnce({ force: true });
    await put(3);
    now += 1000;
    await createAuditRuntime({ eventStore: chainEventStore(audit.raw), signer }).runOnce({ force: true });
    now += 61_000;
    await server.runOnce();
    await put(4);
    now += 61_000;
    await server.runOnce();
    const report = await verifyEventStore(audit.store, { trustedKeyId: signer.keyId });
    expect(report.problems).to.deep.equal([]);
    expect(await collect(audit.raw.readStream('audit-checkpoints'))).to.have.length(4);
  });

  it("chains a 'stream_exists' append against the real tail when this process last saw the stream missing", async () => {
    const stream = accountStream('1000007');
    const missing = await audit.store.appendToStream(stream, [event()], { expectedRevision: 'stream_exists' }).catch((caught: unknown) => caught);
    expect(missing).to.be.instanceOf(WrongExpectedRevisionError);
    await chainEventStore(audit.raw).appendToStream(stream, [event()], { expectedRevision: 'no_stream' });
    await audit.store.appendToStream(stream, [event()], { expectedRevision: 'stream_exists' });
    const [opened, appended] = await collect(audit.raw.readStream(stream));
    expect(appended!.metadata?.$prevHash).to.equal(opened!.metadata?.$hash);
    expect((await verifyEventStore(audit.store)).problems).to.deep.equal([]);
  });

  it('answers an expectation the stream falls short of with a conflict, never by handing the store unchained events', async () => {
    const stream = accountStream('1000008');
    const other = chainEventStore(audit.raw);
    await other.appendToStream(stream, [event()], { expectedRevision: 'no_stream' });
    let reads = 0;
    // The other process reaches the expected revision just after this one's second look at the tail.
    const racing: EventStore = decorateEventStore(audit.raw, {
      readStream: (streamName, options) =>
        (async function* () {
          yield* audit.raw.readStream(streamName, options);
          if (++reads === 2) await other.appendToStream(stream, [event()], { expectedRevision: 0n });
        })(),
    });
    const error = await chainEventStore(racing).appendToStream(stream, [event()], { expectedRevision: 1n }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(WrongExpectedRevisionError);
    expect(await collect(audit.raw.readStream(stream))).to.have.length(2);
    expect((await verifyEventStore(audit.store)).problems).to.deep.equal([]);
  });

  it('refuses to delete, tombstone or truncate a ledger stream, and changes nothing', async () => {
    const stream = accountStream('1000003');
    await audit.store.appendToStream(stream, [event()]);
    const attempts = [
      () => audit.store.deleteStream(stream),
      () => audit.store.tombstoneStream(stream),
      () => audit.store.setStreamMetadata(stream, { maxCount: 1 }),
      () => audit.store.setStreamMetadata(stream, { truncateBefore: 1n }),
      () => audit.store.setStreamMetadata(stream, { maxAge: 1 }),
      () => audit.store.appendToStream(`$$${stream}`, [event('$metadata', {})]),
    ];
    for (const attempt of attempts) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(ProtectedStreamError);
      expect((error as ProtectedStreamError).status).to.equal(403);
    }
    expect(await collect(audit.raw.readStream(stream))).to.have.length(1);
    await audit.store.setStreamMetadata(stream, { custom: { owner: 'books' } });
    await audit.store.appendToStream('scratch-1', [event()]);
    await audit.store.deleteStream('scratch-1');
  });

  it('verifies a log written before chaining as unchained before its first chained event', async () => {
    const stream = accountStream('1000004');
    await audit.raw.appendToStream(stream, [event(), event()]);
    const legacyEnd = await audit.raw.headPosition();
    await audit.store.appendToStream(stream, [event()]);
    await writeHistory(audit.store, { accounts: 2, movements: 3, seed: 1 });
    const report = await verifyEventStore(audit.store);
    expect(report.ok, JSON.stringify(report.problems)).to.equal(true);
    expect(report.unchainedEvents).to.equal(2);
    expect(report.lastUnchainedPosition).to.equal(legacyEnd!.toString());
  });
});
