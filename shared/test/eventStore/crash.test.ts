import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { collect, type RecordedEvent } from '../../src/eventStore/eventStore.js';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.js';

interface Acknowledged {
  streamName: string;
  batch: string;
  ids: string[];
  revision: string;
  position: string;
}

const writerScript = new URL('./fixtures/appendLoop.js', import.meta.url);

/**
 * Runs the writer process until it has acknowledged `ackTarget` appends while a reader in this
 * process reads the same file, then kills it with SIGKILL.
 */
const runWriterAndKill = async (path: string, ackTarget: number): Promise<Acknowledged[]> => {
  const child = spawn(process.execPath, [writerScript.pathname, path, '20', '8'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acknowledged: Acknowledged[] = [];
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const lines = createInterface({ input: child.stdout });
  const killAt = ackTarget + Math.floor(Math.random() * ackTarget);
  let killed = false;
  lines.on('line', (line) => {
    let parsed: Acknowledged;
    try {
      parsed = JSON.parse(line) as Acknowledged;
    } catch (error) {
      // The kill can cut the line being written: that append was never reported whole.
      if (killed) return;
      throw error;
    }
    acknowledged.push(parsed);
    if (acknowledged.length === killAt) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  const reader = (async () => {
    // A second reader of the same file must only ever see whole, committed appends.
    const readerStore = await waitForFile(path);
    let checks = 0;
    while (child.exitCode === null && child.signalCode === null) {
      assertLogIsConsistent(await collect(readerStore.readAll()));
      checks++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await readerStore.close();
    return checks;
  })();
  const signal = await exited;
  const readerChecks = await reader;
  expect(signal, 'writer must die by SIGKILL, not exit by itself').to.equal('SIGKILL');
  expect(readerChecks, 'the concurrent reader read the log while it was written').to.be.greaterThan(0);
  return acknowledged;
};

const waitForFile = async (path: string) => {
  for (let attempt = 0; ; attempt++) {
    try {
      return openSqliteEventStore({ path, readonly: true });
    } catch (error) {
      if (attempt > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
};

/** Positions strictly increase, every stream's revisions run 0,1,2… and every batch is whole. */
const assertLogIsConsistent = (events: RecordedEvent[]): void => {
  const crashEvents = events.filter((event) => event.type === 'CrashTestAppended');
  for (let i = 1; i < events.length; i++) {
    expect(events[i]!.position > events[i - 1]!.position, 'positions strictly increase').to.equal(true);
  }
  const nextRevision = new Map<string, bigint>();
  const batches = new Map<string, { of: number; indexes: number[]; revisions: bigint[] }>();
  for (const event of crashEvents) {
    const expected = nextRevision.get(event.streamName) ?? 0n;
    expect(event.revision, `revision of ${event.streamName}`).to.equal(expected);
    nextRevision.set(event.streamName, expected + 1n);
    const data = event.data as { batch: string; index: number; of: number };
    const batch = batches.get(data.batch) ?? { of: data.of, indexes: [], revisions: [] };
    batch.indexes.push(data.index);
    batch.revisions.push(event.revision);
    batches.set(data.batch, batch);
  }
  for (const [id, batch] of batches) {
    expect(batch.indexes, `batch ${id} is whole and in order`).to.deep.equal(
      Array.from({ length: batch.of }, (_, index) => index),
    );
    batch.revisions.forEach((revision, index) => expect(revision).to.equal(batch.revisions[0]! + BigInt(index)));
  }
};

describe('embedded event store: crash safety', function () {
  this.timeout(60_000);

  it('keeps every acknowledged append, whole, across repeated SIGKILLs of a writer under load', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'folio-crash-')), 'events.sqlite');
    const acknowledged: Acknowledged[] = [];
    for (let round = 0; round < 3; round++) {
      acknowledged.push(...(await runWriterAndKill(path, 150)));
    }
    expect(acknowledged.length).to.be.greaterThan(450);

    const store = openSqliteEventStore({ path });
    try {
      const events = await collect(store.readAll());
      assertLogIsConsistent(events);
      const byId = new Map(events.map((event) => [event.id, event]));
      for (const ack of acknowledged) {
        ack.ids.forEach((id, index) => {
          const event = byId.get(id);
          expect(event, `acknowledged event ${id} of ${ack.streamName}`).to.not.equal(undefined);
          expect(event!.streamName).to.equal(ack.streamName);
          expect(event!.revision).to.equal(BigInt(ack.revision) - BigInt(ack.ids.length - 1 - index));
        });
        expect(byId.get(ack.ids[ack.ids.length - 1]!)!.position.toString()).to.equal(ack.position);
      }
      // The reopened store goes on appending after the last surviving revision.
      const stream = acknowledged[0]!.streamName;
      const last = (await collect(store.readStream(stream, { direction: 'backwards', maxCount: 1 })))[0]!;
      const result = await store.appendToStream(
        stream,
        [{ id: '00000000-0000-4000-8000-000000000001', type: 'AfterCrash', data: {} }],
        { expectedRevision: last.revision },
      );
      expect(result.nextExpectedRevision).to.equal(last.revision + 1n);
    } finally {
      await store.close();
    }
  });
});
