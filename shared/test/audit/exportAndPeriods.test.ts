import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  accountStream,
  closePeriod,
  createAuditRuntime,
  createExport,
  generatedSigner,
  ledgerCatalog,
  restatementsOf,
  verifyExport,
  type AuditSigner,
  type ExportFiles,
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

  it('fails when a file is missing or added, or the export is signed by another key than the trusted one', () => {
    const { ['balances.json']: _dropped, ...missing } = files;
    expect(verifyExport(missing).ok).to.equal(false);
    expect(verifyExport({ ...files, 'extra.txt': 'x' }).ok).to.equal(false);
    expect(verifyExport(files, { trustedKeyId: generatedSigner().keyId }).ok).to.equal(false);
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
});
