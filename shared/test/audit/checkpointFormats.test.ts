import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import {
  accountAsOf,
  addLeaf,
  canonicalJson,
  CHECKPOINT_STREAM,
  checkpointRecorded,
  createAuditRuntime,
  createExport,
  emptyFrontier,
  frontierToJson,
  generatedSigner,
  isMerkleLeafStream,
  leafHash,
  linkHashOf,
  merkleRoot,
  verifyEventStore,
  verifyExport,
  type AuditSigner,
  type EventStore,
  type JsonObject,
  type VerificationReport,
} from '../../src/index.js';
import { openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';
import { useTamperedCopies, type StoredEventRow } from './tamperedCopies.js';

type Row = StoredEventRow;

/**
 * A checkpoint as the checkpointer wrote them before leaves were bound to their position and
 * commit time (`folio-checkpoint/1`): the root over the event hashes alone, at the head of the log.
 */
const writeLegacyCheckpoint = async (store: EventStore, signer: AuditSigner, signedAt: Date): Promise<void> => {
  const frontier = emptyFrontier();
  let position = 0n;
  for await (const event of store.readAll()) {
    position = event.position;
    if (isMerkleLeafStream(event.streamName)) addLeaf(frontier, leafHash(Buffer.from(linkHashOf(event), 'hex')));
  }
  const payload = {
    format: 'folio-checkpoint/1',
    position: position.toString(),
    leafCount: frontier.leafCount.toString(),
    root: merkleRoot(frontier),
    keyId: signer.keyId,
    signedAt: signedAt.toISOString(),
  };
  const checkpoint = { payload, signature: signer.sign(canonicalJson(payload)), publicKey: signer.publicKeyPem, frontier: frontierToJson(frontier) };
  await store.appendToStream(
    CHECKPOINT_STREAM,
    [{ id: randomUUID(), type: checkpointRecorded.type, data: checkpoint as unknown as JsonObject, metadata: { occurredAt: payload.signedAt } }],
    { expectedRevision: 'any' },
  );
};

/**
 * The log: history under two checkpoints of the first format, the writer upgraded (its first
 * checkpoint resumes from an old one), more history under checkpoints of the current format, and
 * between two postings an event of a stream the audit does not cover, whose place in the log can
 * be taken over.
 */
describe('audit: checkpoints bind each event to its position and commit time', () => {
  let audit: AuditStore;
  const signer = generatedSigner();
  const copies = useTamperedCopies('folio-bound');
  const { tamper, withCopy } = copies;
  const upgradeWarnings: string[] = [];

  before(async () => {
    audit = openAuditStore();
    await writeHistory(audit.store, { accounts: 3, movements: 8, seed: 3 });
    await writeLegacyCheckpoint(audit.store, signer, audit.now());
    await writeHistory(audit.store, { accounts: 3, movements: 8, seed: 4 });
    await writeLegacyCheckpoint(audit.store, signer, audit.now());
    await writeHistory(audit.store, { accounts: 2, movements: 4, seed: 5 });
    const runtime = () =>
      createAuditRuntime({ eventStore: audit.store, signer, checkpointEvery: 25, clock: audit.now, onWarning: (message) => upgradeWarnings.push(message) });
    await runtime().runOnce({ force: true });
    await writeHistory(audit.store, { accounts: 3, movements: 6, seed: 6 });
    await audit.raw.appendToStream('idempotency-review', [{ id: randomUUID(), type: 'CommandRecorded', data: { key: 'review' } }]);
    await writeHistory(audit.store, { accounts: 3, movements: 6, seed: 7 });
    // A restarted writer, resuming from the frontier of the current format stored with its checkpoint.
    await runtime().runOnce({ force: true });
    await copies.keep(audit);
  });
  after(() => audit.dispose());

  const verify = (): Promise<VerificationReport> => withCopy((store) => verifyEventStore(store, { trustedKeyId: signer.keyId }));
  const checkpointPositions = (): bigint[] =>
    tamper((db) =>
      (db.prepare('SELECT data FROM events WHERE stream_name = ? ORDER BY revision').all(CHECKPOINT_STREAM) as { data: string }[]).map(
        (row) => BigInt((JSON.parse(row.data) as { payload: { position: string } }).payload.position),
      ),
    );
  /** The problem a bound root reports for the stretch holding `position`, which must start at or before it. */
  const boundRootProblem = (report: VerificationReport, position: bigint) =>
    report.problems.find(
      (problem) =>
        /signed \d+ events with root [0-9a-f]+ \(folio-checkpoint\/2\), .* or its position or commit time changed/.test(problem.reason) &&
        BigInt(problem.position) <= position &&
        BigInt(/ends at position (\d+)/.exec(problem.reason)![1]!) >= position,
    );
  /** A posting after the last checkpoint of the first format: only the current format binds its commit time. */
  const postingAfterUpgrade = (db: Database.Database): Row => {
    const legacy = checkpointPositions()[1]!;
    return db
      .prepare("SELECT * FROM events WHERE type = 'AccountCredited' AND position > ? ORDER BY position LIMIT 1 OFFSET 5")
      .get(legacy) as Row;
  };

  it('verifies checkpoints of both formats, saying how many of each, after an upgrade that resumed without a warning', async () => {
    const report = await verify();
    expect(report.problems).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    expect(upgradeWarnings).to.deep.equal([]);
    const checkpoints = checkpointPositions().length;
    expect(checkpoints).to.be.greaterThan(3);
    expect(report.checkpointFormats).to.deep.equal({ 'folio-checkpoint/1': 2, 'folio-checkpoint/2': checkpoints - 2 });
    expect(report.checkpointsVerified).to.equal(checkpoints);
    expect(report.lastCheckpoint).to.include({ format: 'folio-checkpoint/2' });
    expect(report.leavesAfterLastCheckpoint).to.equal(0);
  });

  it('fails, naming the stretch that holds it, when a posting is recorded earlier in the file, which moved an as-of answer', async () => {
    const { moved, asOf } = tamper((db) => {
      const moved = postingAfterUpgrade(db);
      const before = db.prepare('SELECT * FROM events WHERE position < ? ORDER BY position DESC LIMIT 1').get(moved.position) as Row;
      return { moved, asOf: Number(before.created) };
    });
    const accountId = moved.stream_name.slice('account-'.length);
    const balanceAt = () => withCopy(async (store) => (await accountAsOf(store, accountId, { asOf }, { ignoreSnapshots: true })).figures.balance);
    const untouched = await balanceAt();
    // Still no earlier than the event before it, so the commit times keep their order.
    tamper((db) => db.prepare('UPDATE events SET created = ? WHERE position = ?').run(BigInt(asOf), moved.position));
    expect(await balanceAt()).to.not.equal(untouched);
    const report = await verify();
    expect(report.ok).to.equal(false);
    expect(boundRootProblem(report, moved.position), JSON.stringify(report.problems)).to.not.equal(undefined);
  });

  it('fails when a posting takes over the position of the event after it, which moved a by-position answer', async () => {
    const moved = tamper((db) => {
      const taken = db.prepare("SELECT * FROM events WHERE stream_name = 'idempotency-review'").get() as Row;
      const moved = db.prepare('SELECT * FROM events WHERE position < ? ORDER BY position DESC LIMIT 1').get(taken.position) as Row;
      db.prepare('DELETE FROM events WHERE position = ?').run(taken.position);
      db.prepare('UPDATE events SET position = ? WHERE position = ?').run(taken.position, moved.position);
      return moved;
    });
    const report = await verify();
    expect(report.ok).to.equal(false);
    expect(boundRootProblem(report, moved.position), JSON.stringify(report.problems)).to.not.equal(undefined);
  });

  it('fails through a checkpoint of the current format when an event only old checkpoints covered is recorded earlier', async () => {
    const moved = tamper((db) => {
      const moved = db.prepare("SELECT * FROM events WHERE type = 'AccountCredited' ORDER BY position LIMIT 1 OFFSET 3").get() as Row;
      db.prepare('UPDATE events SET created = created - 1 WHERE position = ?').run(moved.position);
      return moved;
    });
    expect(moved.position < checkpointPositions()[0]!).to.equal(true);
    const report = await verify();
    expect(report.ok).to.equal(false);
    // Every checkpoint of the first format still holds; the first of the current one, covering the log from its start, does not.
    expect(report.checkpointFormats).to.deep.equal({ 'folio-checkpoint/1': 2 });
    expect(report.problems.some((problem) => /\(folio-checkpoint\/2\)/.test(problem.reason))).to.equal(true);
  });

  it('exports a log of both formats that verifies, and an export of the tampered log fails its own verification', async () => {
    const exported = await withCopy((store) => createExport(store, signer, { now: new Date('2026-06-01T00:00:00Z') }));
    const clean = verifyExport(exported, { trustedKeyId: signer.keyId });
    expect(clean.problems).to.deep.equal([]);
    expect(clean.ok).to.equal(true);
    expect(clean.log!.checkpointFormats).to.deep.equal({ 'folio-checkpoint/1': 2, 'folio-checkpoint/2': checkpointPositions().length - 2 });

    const moved = tamper((db) => {
      const moved = postingAfterUpgrade(db);
      db.prepare('UPDATE events SET created = (SELECT created FROM events WHERE position < ? ORDER BY position DESC LIMIT 1) WHERE position = ?').run(
        moved.position,
        moved.position,
      );
      return moved;
    });
    const tampered = await withCopy((store) => createExport(store, signer, { now: new Date('2026-06-01T00:00:00Z') }));
    const report = verifyExport(tampered, { trustedKeyId: signer.keyId });
    expect(report.ok).to.equal(false);
    expect(boundRootProblem(report.log!, moved.position), JSON.stringify(report.log!.problems)).to.not.equal(undefined);
  });
});
