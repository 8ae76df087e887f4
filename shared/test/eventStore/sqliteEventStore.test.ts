import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { StreamDeletedError, WrongExpectedRevisionError } from '../../src/eventStore/errors.js';
import { collect, type EventToAppend } from '../../src/eventStore/eventStore.js';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.js';
import { rejectionOf } from '../../src/testing/rejectionOf.js';

const newEvents = (count: number, type = 'Counted'): EventToAppend[] =>
  Array.from({ length: count }, (_, i) => ({ id: randomUUID(), type, data: { i } }));


/**
 * The writer remembers stream heads and the log's end between its transactions; these tests pin
 * down that another writer on the same file, or a batch that rolls back, never leaves it stale.
 */
describe('embedded event store: what the writer remembers between transactions', () => {
  let directory: string;
  let path: string;
  const opened: SqliteEventStore[] = [];
  const open = (): SqliteEventStore => {
    const store = openSqliteEventStore({ path });
    opened.push(store);
    return store;
  };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'folio-sqlite-'));
    path = join(directory, 'events.db');
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('checks expected revisions against appends another writer made to the same file', async () => {
    const first = open();
    const second = open();
    const a = await first.appendToStream('account-1', newEvents(1), { expectedRevision: 'no_stream' });
    const b = await second.appendToStream('account-1', newEvents(2), { expectedRevision: 0n });

    const stale = await rejectionOf(first.appendToStream('account-1', newEvents(1), { expectedRevision: 0n }));
    expect(stale).to.be.instanceOf(WrongExpectedRevisionError);
    expect((stale as WrongExpectedRevisionError).actualRevision).to.equal(2n);
    const c = await first.appendToStream('account-1', newEvents(1), { expectedRevision: 2n });

    expect(c.nextExpectedRevision).to.equal(3n);
    expect(b.position > a.position && c.position > b.position, 'positions follow commit order').to.equal(true);
    const events = await collect(first.readAll());
    expect(events.map((e) => e.revision)).to.deep.equal([0n, 1n, 2n, 3n]);
  });

  it('sees a soft delete and a tombstone made by another writer', async () => {
    const first = open();
    const second = open();
    await first.appendToStream('account-2', newEvents(2));
    await second.deleteStream('account-2');

    const recreated = await first.appendToStream('account-2', newEvents(1), { expectedRevision: 'no_stream' });
    expect(recreated.nextExpectedRevision).to.equal(2n);
    expect((await collect(first.readStream('account-2'))).map((e) => e.revision)).to.deep.equal([2n]);

    await second.tombstoneStream('account-2');
    expect(await rejectionOf(first.appendToStream('account-2', newEvents(1)))).to.be.instanceOf(StreamDeletedError);
  });

  it('sees its own soft delete on the next append', async () => {
    const store = open();
    await store.appendToStream('account-3', newEvents(2));
    await store.deleteStream('account-3', { expectedRevision: 1n });

    const recreated = await store.appendToStream('account-3', newEvents(1), { expectedRevision: 'no_stream' });

    expect(recreated.nextExpectedRevision).to.equal(2n);
  });

  it('answers a retry committed in the same batch as its original with the original result', async () => {
    const store = open();
    const events = newEvents(40);

    const [original, retried] = await Promise.all([
      store.appendToStream('account-7', events, { expectedRevision: 'no_stream' }),
      store.appendToStream('account-7', events, { expectedRevision: 'no_stream' }),
    ]);

    expect(original.written).to.equal(true);
    expect(retried).to.deep.equal({ ...original, written: false });
    expect((await collect(store.readStream('account-7'))).map((e) => e.id)).to.deep.equal(events.map((e) => e.id));
  });

  it('fails every append of a batch whose write fails, and forgets what that batch wrote', async () => {
    const store = open();
    await store.appendToStream('account-4', newEvents(1));
    // A storage failure in the middle of a batch, after other appends of it were written.
    const saboteur = new Database(path);
    saboteur.exec(`CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.type = 'Poison'
                   BEGIN SELECT RAISE(ABORT, 'poisoned write'); END`);
    saboteur.close();

    const outcomes = await Promise.allSettled([
      store.appendToStream('account-4', newEvents(1), { expectedRevision: 0n }),
      store.appendToStream('account-5', [...newEvents(1), ...newEvents(1, 'Poison')]),
      store.appendToStream('account-6', newEvents(1), { expectedRevision: 'no_stream' }),
    ]);

    for (const outcome of outcomes) {
      expect(outcome.status).to.equal('rejected');
      expect(String((outcome as PromiseRejectedResult).reason)).to.contain('poisoned write');
    }
    expect((await collect(store.readAll())).map((e) => e.streamName)).to.deep.equal(['account-4']);
    const retried = await Promise.all([
      store.appendToStream('account-4', newEvents(1), { expectedRevision: 0n }),
      store.appendToStream('account-6', newEvents(1), { expectedRevision: 'no_stream' }),
    ]);
    expect(retried.map((r) => r.nextExpectedRevision)).to.deep.equal([1n, 0n]);
    expect(retried[1]!.position > retried[0]!.position).to.equal(true);
  });

  it('commits every append submitted before close, and they are there after reopening', async () => {
    const store = openSqliteEventStore({ path });
    const appends = Array.from({ length: 20 }, (_, i) => store.appendToStream(`account-${i}`, newEvents(2)));
    await store.close();
    expect((await Promise.all(appends)).every((result) => result.nextExpectedRevision === 1n)).to.equal(true);
    const reopened = open();
    expect((await collect(reopened.readAll())).length).to.equal(40);
  });
});
