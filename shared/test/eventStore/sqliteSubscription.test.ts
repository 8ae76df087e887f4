import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { collect, type EventToAppend, type SubscriptionMessage } from '../../src/eventStore/eventStore.js';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.js';

const newEvents = (count: number, type = 'Counted'): EventToAppend[] =>
  Array.from({ length: count }, (_, i) => ({ id: randomUUID(), type, data: { i } }));

describe('embedded event store: filtered reads and subscriptions', () => {
  let directory: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'folio-sqlite-subscription-'));
    store = openSqliteEventStore({ path: join(directory, 'events.db') });
  });

  afterEach(async () => {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('reports the last scanned position before caught up, and again when live, past filtered-out events', async () => {
    await store.appendToStream('wanted-1', newEvents(1));
    // Fewer than a checkpoint interval (32) of filtered-out events after the last wanted one.
    const quietHead = (await store.appendToStream('noise-1', newEvents(5))).position;
    const subscription = store.subscribeToAll({ fromPosition: 'start', filter: { streamNamePrefixes: ['wanted-'] } });
    const messages: SubscriptionMessage[] = [];
    const iterator = subscription[Symbol.asyncIterator]();
    const readUntil = async (done: (message: SubscriptionMessage) => boolean) => {
      for (;;) {
        const next = await iterator.next();
        if (next.done) throw new Error('the subscription ended');
        messages.push(next.value);
        if (done(next.value)) return;
      }
    };
    try {
      await readUntil((message) => message.kind === 'caughtUp');
      expect(messages.map((message) => message.kind)).to.deep.equal(['event', 'checkpoint', 'caughtUp']);
      expect(messages[1]).to.deep.equal({ kind: 'checkpoint', position: quietHead });

      const liveHead = (await store.appendToStream('noise-2', newEvents(3))).position;
      await readUntil((message) => message.kind === 'checkpoint');
      expect(messages.at(-1)).to.deep.equal({ kind: 'checkpoint', position: liveHead });
    } finally {
      await subscription.unsubscribe();
    }
  });

  it('hands a catch-up over in runs of many messages, and stops at once when unsubscribed', async () => {
    await store.appendToStream('wanted-1', newEvents(600));
    const subscription = store.subscribeToAll({ fromPosition: 'start' });
    const runs: (readonly SubscriptionMessage[])[] = [];
    for await (const run of subscription.runs()) {
      runs.push(run);
      if (run.at(-1)?.kind === 'caughtUp') break;
    }
    expect(runs.flat().filter((message) => message.kind === 'event')).to.have.length(600);
    expect(runs.length, 'runs for 600 events').to.be.at.most(3);

    const again = store.subscribeToAll({ fromPosition: 'start' });
    const iterator = again[Symbol.asyncIterator]();
    expect((await iterator.next()).value).to.have.property('kind', 'event');
    await again.unsubscribe();
    // The rest of the run already read is not handed out.
    expect((await iterator.next()).done).to.equal(true);
  });

  it('never parses the events a filter leaves out, reading $all or subscribed to it', async () => {
    await store.appendToStream('account-1', newEvents(2));
    await store.appendToStream('other-1', newEvents(2));
    await store.appendToStream('account-2', newEvents(1));
    // What the filter leaves out is not even read as JSON: here it could not be.
    const tamper = new Database(join(directory, 'events.db'));
    tamper.prepare("UPDATE events SET data = '{not json' WHERE stream_name = 'other-1'").run();
    tamper.close();
    const filter = { streamNamePrefixes: ['account-'] };

    const read = await collect(store.readAll({ filter }));
    expect(read.map((event) => [event.streamName, event.data])).to.deep.equal([
      ['account-1', { i: 0 }],
      ['account-1', { i: 1 }],
      ['account-2', { i: 0 }],
    ]);
    const delivered: string[] = [];
    const subscription = store.subscribeToAll({ filter });
    for await (const message of subscription) {
      if (message.kind === 'event') delivered.push(message.event.streamName);
      if (message.kind === 'caughtUp') break;
    }
    await subscription.unsubscribe();
    expect(delivered).to.deep.equal(['account-1', 'account-1', 'account-2']);
    const unfiltered = await collect(store.readAll()).then(() => undefined, (error: unknown) => error);
    expect(unfiltered, 'without the filter the tampered rows are read').to.be.instanceOf(SyntaxError);
  });
});
