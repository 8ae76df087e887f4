import Database from 'better-sqlite3';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  accountStream,
  chainEventStore,
  computeEventHash,
  createAuditRuntime,
  generatedSigner,
  ledgerCatalog,
  openSqliteEventStore,
  verifyEventStore,
  type VerificationReport,
} from '../../src/index.js';
import { openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';
import { useTamperedCopies, type StoredEventRow } from './tamperedCopies.js';

type Row = StoredEventRow;

/** Rewrites an event's data and type and, as anyone can (the hash has no key), its `$hash`. */
const rechain = (db: Database.Database, row: Row, data: Record<string, unknown>, type = row.type): void => {
  const metadata = JSON.parse(row.metadata) as Record<string, unknown> & { $prevHash: string | null };
  metadata['$hash'] = computeEventHash(
    { streamName: row.stream_name, revision: row.revision, id: row.event_id, type, data: data as never, metadata: metadata as never },
    metadata.$prevHash,
  );
  db.prepare('UPDATE events SET type = ?, data = ?, metadata = ? WHERE position = ?').run(type, JSON.stringify(data), JSON.stringify(metadata), row.position);
};

/**
 * Tampering with the embedded store's file directly, as someone with access to the database
 * could, must make `verify` fail and name the event.
 */
describe('audit: verify finds tampering in the embedded store file', () => {
  let audit: AuditStore;
  const signer = generatedSigner();
  const copies = useTamperedCopies('folio-tamper');
  const { tamper, withCopy } = copies;

  before(async () => {
    audit = openAuditStore();
    await writeHistory(audit.store, { accounts: 4, movements: 30, seed: 11 });
    const runtime = createAuditRuntime({ eventStore: audit.store, signer, checkpointEvery: 25, snapshotEvery: 5, clock: audit.now });
    await runtime.runOnce({ force: true });
    await copies.keep(audit);
  });
  after(() => audit.dispose());

  const verify = (): Promise<VerificationReport> => withCopy((store) => verifyEventStore(store, { trustedKeyId: signer.keyId }));
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
    expect(report).to.have.property('leavesAfterLastCheckpoint', 0);
  });

  it('counts the events written after the last verified checkpoint, which no signature covers yet', async () => {
    const store = openSqliteEventStore({ path: copies.path });
    try {
      const accountId = '1000000';
      const frozen = ledgerCatalog.encode({
        type: 'AccountFrozen',
        id: randomUUID(),
        version: 1,
        data: { accountId, reason: 'review' },
        metadata: { $correlationId: 'test', actor: 'test', occurredAt: new Date().toISOString() },
      });
      await chainEventStore(store).appendToStream(accountStream(accountId), [frozen, { ...frozen, id: randomUUID() }]);
    } finally {
      await store.close();
    }
    const report = await verify();
    expect(report.ok).to.equal(true);
    expect(report).to.have.property('leavesAfterLastCheckpoint', 2);
  });

  for (const [what, change] of [
    ['its signature removed', (data: Record<string, unknown>) => ({ ...data, signature: '' })],
    ['its payload dropped', (data: Record<string, unknown>) => ({ ...data, payload: undefined })],
  ] as const) {
    it(`fails naming a checkpoint event that cannot be read (${what}), though re-chained`, async () => {
      const victim = tamper((db) => {
        const row = db.prepare("SELECT * FROM events WHERE stream_name = 'audit-checkpoints' ORDER BY revision DESC LIMIT 1").get() as Row;
        rechain(db, row, JSON.parse(JSON.stringify(change(JSON.parse(row.data) as Record<string, unknown>))) as Record<string, unknown>);
        return row;
      });
      const report = await verify();
      expect(report.ok).to.equal(false);
      expect(report.firstBroken).to.include({ eventId: victim.event_id, streamName: 'audit-checkpoints' });
      expect(report.firstBroken!.reason).to.match(/is not a readable CheckpointRecorded/);
    });
  }

  /** The writer restarting on the copy: more business, then its next checkpoint; what it warned of. */
  const restartWriter = async (runtimeSigner = signer): Promise<string[]> => {
    const warnings: string[] = [];
    const store = openSqliteEventStore({ path: copies.path });
    try {
      const chained = chainEventStore(store);
      await chained.appendToStream(accountStream('1000000'), [
        ledgerCatalog.encode({
          type: 'AccountFrozen',
          id: randomUUID(),
          version: 1,
          data: { accountId: '1000000', reason: 'review' },
          metadata: { $correlationId: 'test', actor: 'test', occurredAt: new Date().toISOString() },
        }),
      ]);
      await createAuditRuntime({ eventStore: chained, signer: runtimeSigner, onWarning: (message) => warnings.push(message) }).runOnce({ force: true });
    } finally {
      await store.close();
    }
    return warnings;
  };

  it('resumes from a checkpoint whose stored frontier was rewritten by rebuilding it from the log, with a warning', async () => {
    tamper((db) => {
      const row = db.prepare("SELECT * FROM events WHERE stream_name = 'audit-checkpoints' ORDER BY revision DESC LIMIT 1").get() as Row;
      const data = JSON.parse(row.data) as { frontier: { nodes: string[] } };
      data.frontier.nodes[0] = 'ab'.repeat(32);
      rechain(db, row, data as unknown as Record<string, unknown>);
      return row;
    });
    // The frontier is not signed: verification cannot see the change...
    const before = await verify();
    expect(before.ok).to.equal(true);
    const warnings = await restartWriter();
    // ...and the next checkpoint must not carry it into a root that blames honest events.
    const after = await verify();
    expect(after.problems).to.deep.equal([]);
    expect(after.checkpointsVerified).to.equal(before.checkpointsVerified + 1);
    expect(after.leavesAfterLastCheckpoint).to.equal(0);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/frontier stored with the checkpoint at position \d+ does not give its signed root: rebuilt from the log$/);
  });

  it('resumes from the start of the log, with a warning, when the last checkpoint is signed by another key', async () => {
    const before = await verify();
    const other = generatedSigner();
    const warnings = await restartWriter(other);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.contain(`signed by key ${signer.keyId}, not the trusted key ${other.keyId}`);
    const store = openSqliteEventStore({ path: copies.path, readonly: true });
    try {
      // Every checkpoint of the new key covers the log from its start.
      const report = await verifyEventStore(store, { trustedKeyId: other.keyId });
      expect(report.checkpointsVerified).to.equal(1);
      expect(report.leavesAfterLastCheckpoint).to.equal(0);
      expect(report.problems.every((problem) => /signed by key/.test(problem.reason))).to.equal(true);
      expect(report.problems).to.have.length(before.checkpointsVerified);
    } finally {
      await store.close();
    }
  });

  it('fails naming an event of the checkpoint stream of another type', async () => {
    const victim = tamper((db) => {
      const row = db.prepare("SELECT * FROM events WHERE stream_name = 'audit-checkpoints' ORDER BY revision LIMIT 1").get() as Row;
      rechain(db, row, JSON.parse(row.data) as Record<string, unknown>, 'CheckpointNoted');
      return row;
    });
    const report = await verify();
    expect(report.ok).to.equal(false);
    expect(report.firstBroken).to.include({ eventId: victim.event_id });
    expect(report.firstBroken!.reason).to.match(/is not a readable CheckpointRecorded/);
  });

  it('finds the same with all but two streams kept on disk while it verifies', async () => {
    const compare = () =>
      withCopy(async (store) => {
        const inMemory = await verifyEventStore(store, { trustedKeyId: signer.keyId });
        expect(await verifyEventStore(store, { trustedKeyId: signer.keyId, streamsInMemory: 2 })).to.deep.equal(inMemory);
        return inMemory;
      });
    expect((await compare()).ok).to.equal(true);
    const altered = tamper((db) => {
      const row = posting(db, 2);
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run(row.data.replace(/"amount":"(\d+)"/, '"amount":"9$1"'), row.position);
      return row;
    });
    tamper((db) => db.prepare('DELETE FROM events WHERE position = ?').run(posting(db, 20).position));
    const report = await compare();
    expect(report.firstBroken).to.include({ eventId: altered.event_id });
    expect(report.problems.length).to.be.at.least(2);
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
