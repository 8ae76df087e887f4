import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { collect, filterAdmits, type EventFilter, type EventToAppend, type SubscriptionMessage } from '../../src/eventStore/eventStore.js';
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

  it('reads through a filter exactly what the filter admits, at the edges of code point order', async () => {
    // Stream names and types around the prefixes' range bounds: the filter runs in SQL as ranges.
    const names = ['a', 'ab', 'abc', 'ab\uffff', 'ab\u{10000}', 'ac', 'a%', 'a_', '\u{10ffff}', '\u{10ffff}x', 'é', 'e\u0301', 'A'];
    const types = ['Opened', 'OpenedLater', 'Closed', '$metadata', '$x', '%y', '#z'];
    for (const [i, name] of names.entries()) {
      await store.appendToStream(name, [
        { id: randomUUID(), type: types[i % types.length]!, data: { i } },
        { id: randomUUID(), type: types[(i + 3) % types.length]!, data: { i } },
      ]);
    }
    const all = await collect(store.readAll());
    const filters: EventFilter[] = [
      { streamNamePrefixes: ['ab'] },
      { streamNamePrefixes: ['ab\uffff', '\u{10ffff}'] },
      { streamNamePrefixes: ['a%', 'a_'] },
      { streamNamePrefixes: [''] },
      { streamNamePrefixes: [] },
      { streamNamePrefixes: ['e'] },
      { eventTypePrefixes: ['Opened'] },
      { eventTypePrefixes: ['$'] },
      { excludeSystemEvents: true },
      { excludeSystemEvents: true, streamNamePrefixes: ['a', 'é'], eventTypePrefixes: ['Open', '%', '#'] },
      // A lone surrogate has no UTF-8 form: that filter runs on the rows read, with the same result.
      { streamNamePrefixes: ['ab\ud800'] },
    ];
    for (const filter of filters) {
      const expected = all.filter((event) => filterAdmits(filter, event.streamName, event.type)).map((event) => event.id);
      expect((await collect(store.readAll({ filter }))).map((event) => event.id), JSON.stringify(filter)).to.deep.equal(expected);
      const backwards = await collect(store.readAll({ filter, direction: 'backwards' }));
      expect(backwards.map((event) => event.id), `${JSON.stringify(filter)} backwards`).to.deep.equal([...expected].reverse());
      const firstTwo = await collect(store.readAll({ filter, maxCount: 2, fromPosition: all[3]!.position }));
      const expectedFromFourth = all.slice(3).filter((event) => filterAdmits(filter, event.streamName, event.type));
      expect(firstTwo.map((event) => event.id), `${JSON.stringify(filter)} two from the fourth`).to.deep.equal(
        expectedFromFourth.slice(0, 2).map((event) => event.id),
      );
    }
  });
});
