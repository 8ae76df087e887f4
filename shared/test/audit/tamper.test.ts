import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import {
  createAuditRuntime,
  generatedSigner,
  openSqliteEventStore,
  verifyEventStore,
  type VerificationReport,
} from '../../src/index.js';
import { openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';

interface Row {
  position: bigint;
  stream_name: string;
  revision: bigint;
  event_id: string;
  data: string;
}

/**
 * Tampering with the embedded store's file directly, as someone with access to the database
 * could, must make `verify` fail and name the event.
 */
describe('audit: verify finds tampering in the embedded store file', () => {
  let audit: AuditStore;
  let pristine: string;
  let work: string;
  let copy: string;

  before(async () => {
    audit = openAuditStore();
    await writeHistory(audit.store, { accounts: 4, movements: 30, seed: 11 });
    const runtime = createAuditRuntime({ eventStore: audit.store, signer: generatedSigner(), checkpointEvery: 25, snapshotEvery: 5, clock: audit.now });
    await runtime.runOnce({ force: true });
    await audit.raw.close();
    pristine = join(mkdtempSync(join(tmpdir(), 'folio-tamper-')), 'events.sqlite');
    copyFileSync(audit.path, pristine);
    audit.raw = openSqliteEventStore({ path: audit.path });
  });
  after(async () => {
    await audit.dispose();
    rmSync(join(pristine, '..'), { recursive: true, force: true });
  });

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'folio-tampered-'));
    copy = join(work, 'events.sqlite');
    copyFileSync(pristine, copy);
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const tamper = (change: (db: Database.Database) => Row) => {
    const db = new Database(copy);
    db.defaultSafeIntegers(true);
    try {
      return db.transaction(() => change(db))();
    } finally {
      db.close();
    }
  };
  const verify = async (): Promise<VerificationReport> => {
    const store = openSqliteEventStore({ path: copy, readonly: true });
    try {
      return await verifyEventStore(store);
    } finally {
      await store.close();
    }
  };
  const posting = (db: Database.Database, offset = 10): Row =>
    db
      .prepare("SELECT * FROM events WHERE type = 'AccountDebited' AND revision > 1 ORDER BY position LIMIT 1 OFFSET ?")
      .get(offset) as Row;

  it('passes on the untouched file, with every checkpoint verified', async () => {
    const report = await verify();
    expect(report.problems).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    expect(report.checkpointsVerified).to.be.greaterThan(3);
    expect(report.unchainedEvents).to.equal(0);
  });

  it('names an event whose amount was altered', async () => {
    const altered = tamper((db) => {
      const row = posting(db);
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run(row.data.replace(/"amount":"(\d+)"/, '"amount":"9$1"'), row.position);
      return row;
    });
    const report = await verify();
    expect(report.ok).to.equal(false);
    expect(report.firstBroken).to.include({ eventId: altered.event_id, streamName: altered.stream_name });
    expect(report.firstBroken!.reason).to.match(/altered/);
  });

  it('names the place of a deleted event', async () => {
    const deleted = tamper((db) => {
      const row = posting(db);
      db.prepare('DELETE FROM events WHERE position = ?').run(row.position);
      return row;
    });
    const report = await verify();
    expect(report.ok).to.equal(false);
    expect(report.firstBroken).to.include({ streamName: deleted.stream_name, revision: String(deleted.revision + 1n) });
    expect(report.firstBroken!.reason).to.contain(`revisions ${deleted.revision} of ${deleted.stream_name} are missing`);
  });

  it('names an event moved within its stream', async () => {
    const moved = tamper((db) => {
      const row = posting(db);
      const next = db
        .prepare('SELECT * FROM events WHERE stream_name = ? AND revision = ?')
        .get(row.stream_name, row.revision + 1n) as Row;
      const swap = db.prepare('UPDATE events SET revision = ? WHERE position = ?');
      swap.run(-1n, row.position);
      swap.run(row.revision, next.position);
      swap.run(row.revision + 1n, row.position);
      return row;
    });
    const report = await verify();
    expect(report.ok).to.equal(false);
    expect(report.firstBroken).to.include({ streamName: moved.stream_name, eventId: moved.event_id });
  });

  it('fails when two events of different streams swap places in the log', async () => {
    const swapped = tamper((db) => {
      const row = posting(db);
      const other = db
        .prepare('SELECT * FROM events WHERE position > ? AND stream_name != ? ORDER BY position LIMIT 1')
        .get(row.position, row.stream_name) as Row;
      const move = db.prepare('UPDATE events SET position = ? WHERE position = ?');
      move.run(-1n, row.position);
      move.run(row.position, other.position);
      move.run(other.position, -1n);
      return other;
    });
    const report = await verify();
    expect(report.ok).to.equal(false);
    expect(report.firstBroken).to.include({ eventId: swapped.event_id });
    expect(report.firstBroken!.reason).to.match(/one of them was moved/);
    expect(report.problems.some((problem) => /checkpoint at position \d+ signed \d+ events/.test(problem.reason))).to.equal(true);
  });

  it('names a rewritten snapshot, whose figures as-of queries would otherwise trust', async () => {
    const rewritten = tamper((db) => {
      const row = db.prepare("SELECT * FROM events WHERE stream_name LIKE 'snapshot-account-%' ORDER BY position LIMIT 1").get() as Row;
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run(row.data.replace(/"balance":"/, '"balance":"1'), row.position);
      return row;
    });
    const report = await verify();
    expect(report.ok).to.equal(false);
    expect(report.firstBroken).to.include({ eventId: rewritten.event_id, streamName: rewritten.stream_name });
  });

  it('fails when a checkpoint is forged', async () => {
    tamper((db) => {
      const row = db.prepare("SELECT * FROM events WHERE stream_name = 'audit-checkpoints' ORDER BY revision LIMIT 1").get() as Row;
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run(row.data.replace(/"root":"[0-9a-f]/, '"root":"x'), row.position);
      return row;
    });
    expect((await verify()).ok).to.equal(false);
  });
});
