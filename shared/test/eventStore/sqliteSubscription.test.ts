import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { EventToAppend, SubscriptionMessage } from '../../src/eventStore/eventStore.js';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.js';

const newEvents = (count: number, type = 'Counted'): EventToAppend[] =>
  Array.from({ length: count }, (_, i) => ({ id: randomUUID(), type, data: { i } }));

describe('embedded event store: filtered subscription at the head of the log', () => {
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
});
