import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  accountStream,
  canonicalJson,
  closePeriod,
  computeEventHash,
  createAuditRuntime,
  createExport,
  generatedSigner,
  journalStream,
  ledgerCatalog,
  listPeriods,
  restatementsOf,
  trialBalanceAt,
  verifyExport,
  type AuditSigner,
  type ExportFiles,
  type JsonObject,
  type LedgerEvent,
} from '../../src/index.js';
import { readExport, writeExport } from '../../src/audit/exportFiles.js';
import { BANK, openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';

describe('audit: exports verified with no database', () => {
  let audit: AuditStore;
  let signer: AuditSigner;
  let files: ExportFiles;

  before(async () => {
    audit = openAuditStore();
    signer = generatedSigner();
    await writeHistory(audit.store, { accounts: 3, movements: 15, seed: 5 });
    await createAuditRuntime({ eventStore: audit.store, signer, clock: audit.now }).runOnce({ force: true });
    files = await createExport(audit.store, signer, { now: new Date('2026-02-01T00:00:00Z') });
  });
  after(() => audit.dispose());

  it('passes on a clean export, through a directory too, and checks the signed checkpoint', () => {
    const report = verifyExport(files, { trustedKeyId: signer.keyId });
    expect(report.problems).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    expect(report.log!.checkpointsVerified).to.equal(1);
    expect(JSON.parse(files['trial-balance.json']!).balanced).to.equal(true);
    const directory = mkdtempSync(join(tmpdir(), 'folio-export-'));
    try {
      writeExport(directory, files);
      expect(verifyExport(readExport(directory)).ok).to.equal(true);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('fails when the last character of the manifest signature changes only bits base64 ignores', () => {
    const manifest = JSON.parse(files['manifest.json']!) as { signature: string };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const payload = manifest.signature.replace(/=+$/, '');
    // 64 bytes end in a character that carries 2 bits: its 4 low bits are unused.
    const sibling = alphabet[alphabet.indexOf(payload.at(-1)!) | 1]!;
    const lookalike = `${payload.slice(0, -1)}${sibling}${manifest.signature.slice(payload.length)}`;
    expect(Buffer.from(lookalike, 'base64').equals(Buffer.from(manifest.signature, 'base64')), 'decodes to the same bytes').to.equal(true);
    const altered = files['manifest.json']!.replace(manifest.signature, lookalike);
    expect(altered).to.not.equal(files['manifest.json']);
    expect(verifyExport({ ...files, 'manifest.json': altered }).ok).to.equal(false);
  });

  it('fails when any byte of any file is altered', () => {
    const names = Object.keys(files);
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.nat(), fc.integer({ min: 1, max: 255 }), (name, offset, delta) => {
        const bytes = Buffer.from(files[name]!, 'utf8');
        const index = offset % bytes.length;
        bytes[index] = (bytes[index]! + delta) % 256;
        const report = verifyExport({ ...files, [name]: bytes.toString('latin1') });
        expect(report.ok, `${name}[${index}]`).to.equal(false);
      }),
      { numRuns: 120 },
    );
  });

  it('passes with no event left after the checkpoint it carries', () => {
    expect(verifyExport(files).log).to.have.property('leavesAfterLastCheckpoint', 0);
  });

  it('fails on an unreadable checkpoint among the events, even re-chained in an export signed again', () => {
    const lines = files['events.ndjson']!.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    const checkpoint = lines.find((line) => line['streamName'] === 'audit-checkpoints')!;
    checkpoint['data'] = { ...checkpoint['data'], signature: '' };
    checkpoint['metadata']['$hash'] = computeEventHash(
      { ...checkpoint, streamName: checkpoint['streamName'], revision: BigInt(checkpoint['revision']) } as never,
      checkpoint['metadata']['$prevHash'],
    );
    const altered: ExportFiles = {
      ...files,
      'events.ndjson': lines.map((line) => `${canonicalJson(line as JsonObject)}\n`).join(''),
      // What the events now give: no readable checkpoint.
      'checkpoint.json': 'null\n',
    };
    const { signature: _signature, ...manifest } = JSON.parse(files['manifest.json']!) as Record<string, any>;
    delete altered['manifest.json'];
    manifest['files'] = Object.fromEntries(Object.entries(altered).map(([name, content]) => [name, createHash('sha256').update(content).digest('hex')]));
    altered['manifest.json'] = `${canonicalJson({ ...manifest, signature: signer.sign(canonicalJson(manifest as JsonObject)) } as JsonObject)}\n`;

    const report = verifyExport(altered, { trustedKeyId: signer.keyId });
    expect(report.problems).to.deep.equal([]);
    expect(report.ok).to.equal(false);
    expect(report.firstBroken).to.include({ eventId: checkpoint['id'], streamName: 'audit-checkpoints' });
    expect(report.firstBroken!.reason).to.match(/is not a readable CheckpointRecorded/);
    expect(report.log).to.have.property('leavesAfterLastCheckpoint', report.log!.chainedEvents - 1);
  });

  it('fails when a file is missing or added, or the export is signed by another key than the trusted one', () => {
    const { ['balances.json']: _dropped, ...missing } = files;
    expect(verifyExport(missing).ok).to.equal(false);
    expect(verifyExport({ ...files, 'extra.txt': 'x' }).ok).to.equal(false);
    expect(verifyExport(files, { trustedKeyId: generatedSigner().keyId }).ok).to.equal(false);
  });
});

describe('audit: an export folds as docs/audit-format.md step 4 says', () => {
  let audit: AuditStore;
  before(() => {
    audit = openAuditStore();
  });
  after(() => audit.dispose());

  const append = (streamName: string, event: Pick<LedgerEvent, 'type' | 'data'>) =>
    audit.store.appendToStream(streamName, [
      ledgerCatalog.encode({
        ...event,
        id: randomUUID(),
        version: 1,
        metadata: { $correlationId: 'test', actor: 'test', occurredAt: new Date().toISOString() },
      } as LedgerEvent),
    ]);

  it('ends payment journals with JournalCompleted, sorts account ids as strings and gives the position of the export', async () => {
    const [customer] = await writeHistory(audit.store, { accounts: 1, movements: 0, seed: 1 });
    // Sorted as a string, this id comes after the bank's and the customer's; as a number, first.
    const merchant = '999999';
    await append(accountStream(merchant), {
      type: 'AccountOpened',
      data: { accountId: merchant, ownerId: 'merchant', currency: 'EUR', kind: 'merchant', overdraftLimit: 0n },
    });
    const movement = { fromAccountId: BANK, toAccountId: merchant, amount: 700n, currency: 'EUR' as const, requestedAt: new Date().toISOString() };
    const posting = { amount: 700n, currency: 'EUR' as const };
    for (const [id, completed] of [['6000001', true], ['6000002', false]] as const) {
      await append(accountStream(BANK), {
        type: 'AccountDebited',
        data: { accountId: BANK, journal: { id, kind: 'capture', leg: 'first', counterpartyAccountId: merchant }, ...posting, movement },
      });
      if (!completed) continue;
      await append(accountStream(merchant), {
        type: 'AccountCredited',
        data: { accountId: merchant, journal: { id, kind: 'capture', leg: 'second', counterpartyAccountId: BANK }, ...posting },
      });
      await append(journalStream('capture', id), {
        type: 'JournalCompleted',
        data: { ...movement, kind: 'capture', journalId: id, completedAt: new Date().toISOString() },
      });
    }
    const lastOfBooks = (await audit.store.headPosition())!;
    // Not an event of the books: the export's position lies after their last one.
    await closePeriod(audit.store, { periodId: 'P', effectiveUntil: new Date(), actor: 'test', now: new Date() });
    const position = (await audit.store.headPosition())!;
    await append(accountStream(customer!), { type: 'AccountFrozen', data: { accountId: customer!, reason: 'after the export' } });
    const files = await createExport(audit.store, generatedSigner(), { position, now: new Date() });

    // The fold of step 4, written from the document alone.
    const outcomes: Record<string, (data: Record<string, string>) => string> = {
      TransferCompleted: (data) => `transfer-${data['transferId']}`,
      TransferFailed: (data) => `transfer-${data['transferId']}`,
      DepositCompleted: (data) => `deposit-${data['depositId']}`,
      DepositFailed: (data) => `deposit-${data['depositId']}`,
      JournalCompleted: (data) => `${data['kind']}-${data['journalId']}`,
      JournalFailed: (data) => `${data['kind']}-${data['journalId']}`,
    };
    const balances = new Map<string, bigint>();
    const journals = new Map<string, { kind: string; id: string; net: bigint; startedAt: string }>();
    const ended = new Set<string>();
    for (const line of files['events.ndjson']!.trimEnd().split('\n')) {
      const event = JSON.parse(line) as { type: string; position: string; data: Record<string, any> };
      if (event.type === 'AccountOpened') balances.set(event.data['accountId'], 0n);
      if (event.type === 'AccountCredited' || event.type === 'AccountDebited') {
        const effect = (event.type === 'AccountCredited' ? 1n : -1n) * BigInt(event.data['amount']);
        balances.set(event.data['accountId'], balances.get(event.data['accountId'])! + effect);
        const { kind, id } = event.data['journal'];
        const journal = journals.get(`${kind}-${id}`) ?? { kind, id, net: 0n, startedAt: event.position };
        journal.net += effect;
        journals.set(`${kind}-${id}`, journal);
      }
      const outcome = outcomes[event.type];
      if (outcome !== undefined) ended.add(outcome(event.data));
    }
    const open = [...journals.entries()].filter(([key]) => !ended.has(key)).map(([, journal]) => journal);
    const trial = JSON.parse(files['trial-balance.json']!) as Record<string, any>;
    expect(trial['inFlight'].map((entry: any) => [entry.kind, entry.id, entry.inTransit, entry.startedAt])).to.deep.equal(
      open.map((journal) => [journal.kind, journal.id, (-journal.net).toString(), journal.startedAt]),
    );
    expect(open.map((journal) => journal.id)).to.deep.equal(['6000002']);
    expect(trial['currencies'][0]).to.include({ inTransit: '700', difference: '0' });
    expect(trial['position']).to.equal(position.toString());
    expect((await trialBalanceAt(audit.store, { position })).position).to.equal(lastOfBooks);
    const exported = JSON.parse(files['balances.json']!) as { accountId: string; balance: string }[];
    expect(exported.map((entry) => [entry.accountId, entry.balance])).to.deep.equal(
      [...balances.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([accountId, balance]) => [accountId, balance.toString()]),
    );
    expect(exported.at(-1)!.accountId).to.equal(merchant);
  });
});

describe('audit: period close and restatements', () => {
  let audit: AuditStore;
  beforeEach(() => {
    audit = openAuditStore();
  });
  afterEach(() => audit.dispose());

  const post = (accountId: string, type: 'AccountDebited' | 'AccountCredited', amount: bigint, occurredAt: string, journalId: string) =>
    audit.store.appendToStream(accountStream(accountId), [
      ledgerCatalog.encode({
        type,
        id: randomUUID(),
        version: 1,
        data: {
          accountId,
          journal: { id: journalId, kind: 'transfer', leg: type === 'AccountDebited' ? 'first' : 'second', counterpartyAccountId: BANK },
          amount,
          currency: 'EUR',
        },
        metadata: { $correlationId: 'test', actor: 'test', occurredAt },
      } as LedgerEvent),
    ]);

  it('reports a posting dated into a closed period as a restatement, with the closed figures beside the restated ones', async () => {
    const [customer] = await writeHistory(audit.store, { accounts: 1, movements: 0, seed: 1, backdated: 0 });
    const closed = await closePeriod(audit.store, {
      periodId: '2025-12',
      effectiveUntil: new Date('2025-12-31T23:59:59.999Z'),
      actor: 'auditor',
      now: new Date('2026-01-02T00:00:00Z'),
    });
    expect(closed.balances.find((entry) => entry.accountId === customer)!.balance).to.equal(100_000n);
    expect((await restatementsOf(audit.store, '2025-12')).restated).to.equal(false);

    await post(customer!, 'AccountCredited', 250n, '2025-12-30T10:00:00.000Z', '9000001');
    await post(customer!, 'AccountCredited', 999n, '2026-01-05T10:00:00.000Z', '9000002');
    const report = await restatementsOf(audit.store, '2025-12');
    expect(report.restated).to.equal(true);
    expect(report.accounts).to.deep.equal([{ accountId: customer, currency: 'EUR', original: 100_000n, restated: 100_250n }]);
    expect(report.latePostings.map((posting) => [posting.amount, posting.occurredAt])).to.deep.equal([[250n, '2025-12-30T10:00:00.000Z']]);
    const again = await closePeriod(audit.store, { periodId: '2025-12', effectiveUntil: new Date(), actor: 'a', now: new Date() }).catch(
      (error: unknown) => error,
    );
    expect(again).to.have.property('status', 409);
  });

  it('refuses the loser of two concurrent closes of a period with 409 period-closed naming the close that was stored', async () => {
    await writeHistory(audit.store, { accounts: 2, movements: 4, seed: 3 });
    const now = new Date('2026-01-02T00:00:00Z');
    const outcomes = await Promise.allSettled([
      closePeriod(audit.store, { periodId: 'P1', effectiveUntil: new Date('2025-12-01T00:30:00Z'), actor: 'cli:a', now }),
      closePeriod(audit.store, { periodId: 'P1', effectiveUntil: new Date('2030-01-01T00:00:00Z'), actor: 'cli:b', now }),
    ]);
    const stored = await listPeriods(audit.store);
    expect(stored).to.have.length(1);
    const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(won).to.have.length(1);
    expect(won[0]!.value).to.deep.equal(stored[0]);
    expect(lost).to.have.length(1);
    const error = lost[0]!.reason as Error & { status: number; type: string; problemExtensions(): Record<string, unknown> };
    expect(error).to.include({ status: 409, type: 'period-closed' });
    expect(error.message).to.contain(`effective until ${stored[0]!.effectiveUntil}`);
    expect(error.problemExtensions()).to.deep.include({
      periodId: 'P1',
      effectiveUntil: stored[0]!.effectiveUntil,
      closedAtPosition: stored[0]!.closedAtPosition.toString(),
    });
  });

  it('answers an identical concurrent close (a retry) as the original', async () => {
    await writeHistory(audit.store, { accounts: 2, movements: 4, seed: 3 });
    const position = (await audit.store.headPosition())!;
    const request = { periodId: 'P2', effectiveUntil: new Date('2025-12-01T00:30:00Z'), position, actor: 'cli:a', now: new Date() };
    const [first, retry] = await Promise.all([closePeriod(audit.store, request), closePeriod(audit.store, request)]);
    expect(retry).to.deep.equal(first);
    expect(await listPeriods(audit.store)).to.deep.equal([first]);
  });
});
