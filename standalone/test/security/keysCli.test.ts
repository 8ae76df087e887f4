import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createCredentialDirectory, loadConfig, openEventStore } from '@folio/shared';

const cli = new URL('../../../../standalone/dist/src/cli/folioCli.js', import.meta.url).pathname;

describe('folio keys: creating, listing and revoking API keys', function () {
  this.timeout(30_000);

  it('creates a key shown once, lists it without its secret, and revokes it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'folio-keys-'));
    const env = { ...process.env, FOLIO_DATA_DIR: dataDir, EVENTSTORE_URL: '', MONGO_URL: '', ELASTIC_URL: '' };
    const run = (...args: string[]) => promisify(execFile)(process.execPath, [cli, 'keys', ...args], { env });
    try {
      const created = JSON.parse((await run('create', '--role', 'customer', '--owner', 'alice', '--label', 'phone app')).stdout) as {
        keyId: string;
        key: string;
        role: string;
        ownerId: string;
      };
      expect(created).to.include({ role: 'customer', ownerId: 'alice' });
      expect(created.key).to.match(new RegExp(`^folio_${created.keyId}_`));

      const listed = JSON.parse((await run('list')).stdout) as Record<string, unknown>[];
      expect(listed).to.have.length(1);
      expect(listed[0]).to.include({ keyId: created.keyId, role: 'customer', ownerId: 'alice', label: 'phone app' });
      // The secret is all after the prefix: base64url may put a '_' anywhere in it.
      const secret = created.key.slice(`folio_${created.keyId}_`.length);
      expect(secret).to.have.length.above(20);
      expect(JSON.stringify(listed)).to.not.contain(secret);

      const eventStore = openEventStore(loadConfig(env));
      const directory = createCredentialDirectory({ eventStore, onError: () => undefined });
      try {
        expect((await directory.authenticate(created.key))?.ownerId).to.equal('alice');
        expect(JSON.parse((await run('revoke', created.keyId)).stdout)).to.deep.equal({ keyId: created.keyId, revoked: true });
        const fresh = createCredentialDirectory({ eventStore, onError: () => undefined });
        expect(await fresh.authenticate(created.key)).to.equal(undefined);
      } finally {
        await directory.stop();
        await eventStore.close();
      }
      expect((JSON.parse((await run('list')).stdout) as { revokedAt?: string }[])[0]!.revokedAt).to.be.a('string');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a holder key without an owner, a staff key with one, and an unknown role', async () => {
    const env = { ...process.env, FOLIO_DATA_DIR: mkdtempSync(join(tmpdir(), 'folio-keys-')) };
    for (const args of [['create', '--role', 'customer'], ['create', '--role', 'admin', '--owner', 'x'], ['create', '--role', 'root'], ['revoke']]) {
      try {
        await promisify(execFile)(process.execPath, [cli, 'keys', ...args], { env });
        expect.fail(`${args.join(' ')} should have failed`);
      } catch (error) {
        expect((error as { code: number }).code, args.join(' ')).to.equal(2);
      }
    }
  });
});
