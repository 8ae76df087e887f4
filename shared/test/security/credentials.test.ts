import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  accountStream,
  createCredentialCommands,
  createCredentialDirectory,
  CredentialsCatchingUpError,
  generateApiKey,
  openSqliteEventStore,
  type SqliteEventStore,
} from '../../src/index.js';
import { lagging } from './laggingSubscription.js';

describe('credentials in the event store', () => {
  let directory: string;
  let store: SqliteEventStore;
  let other: SqliteEventStore;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'folio-credentials-'));
    store = openSqliteEventStore({ path: join(directory, 'events.sqlite') });
    // Another process on the same log: the CLI beside a running server.
    other = openSqliteEventStore({ path: join(directory, 'events.sqlite') });
  });

  afterEach(async () => {
    await store.close();
    await other.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates the bootstrap key once, and refuses the same id with another secret', async () => {
    const commands = createCredentialCommands({ eventStore: store, clock: () => new Date(), actor: 'bootstrap' });
    const key = generateApiKey();
    expect(await commands.ensureKey(key.token, { role: 'admin' })).to.deep.equal({ keyId: key.keyId, created: true });
    expect(await commands.ensureKey(key.token, { role: 'admin' })).to.deep.equal({ keyId: key.keyId, created: false });
    const impostor = `folio_${key.keyId}_${generateApiKey().secret}`;
    let refused: unknown;
    await commands.ensureKey(impostor, { role: 'admin' }).catch((error: unknown) => (refused = error));
    expect(String(refused)).to.contain('exists with another secret');
    expect(await commands.listKeys()).to.have.length(1);
  });

  it("knows a key another process created at once, and forgets it once that process revokes it", async () => {
    const server = createCredentialDirectory({ eventStore: store, onError: (error) => expect.fail(String(error)) });
    await server.start();
    try {
      const cli = createCredentialCommands({ eventStore: other, clock: () => new Date(), actor: 'cli' });
      const { token, keyId } = await cli.createKey({ role: 'customer', ownerId: 'alice' });
      expect(await server.authenticate(token)).to.deep.equal({ keyId, role: 'customer', ownerId: 'alice' });
      expect(await server.authenticate(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).to.equal(undefined);
      await cli.revokeKey(keyId);
      const deadline = Date.now() + 1000;
      while ((await server.authenticate(token)) !== undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await server.authenticate(token)).to.equal(undefined);
    } finally {
      await server.stop();
    }
  });

  it('forgets a device within a second of another process revoking it, and still counts its holder as enrolled', async () => {
    const server = createCredentialDirectory({ eventStore: store, onError: (error) => expect.fail(String(error)) });
    await server.start();
    try {
      const cli = createCredentialCommands({ eventStore: other, clock: () => new Date(), actor: 'cli' });
      await cli.registerDevice('phone', 'alice', 'A'.repeat(43), 'customer');
      expect((await server.device('phone'))?.ownerId).to.equal('alice');
      await cli.revokeDevice('phone');
      const deadline = Date.now() + 1000;
      while ((await server.device('phone')) !== undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await server.device('phone')).to.equal(undefined);
      expect(server.hasDevice('alice', 'customer')).to.equal(true);
      // A process that never saw the device learns both events from its stream.
      const fresh = createCredentialDirectory({ eventStore: other, onError: (error) => expect.fail(String(error)) });
      expect(await fresh.device('phone')).to.equal(undefined);
    } finally {
      await server.stop();
    }
  });

  it('refuses a key and a device another process revoked while its subscription lags behind the log', async () => {
    const { store: followed, fallBehind } = lagging(store);
    const server = createCredentialDirectory({ eventStore: followed, onError: (error) => expect.fail(String(error)) });
    await server.start();
    try {
      const cli = createCredentialCommands({ eventStore: other, clock: () => new Date(), actor: 'cli' });
      const { token, keyId } = await cli.createKey({ role: 'customer', ownerId: 'alice' });
      await cli.registerDevice('phone', 'alice', 'A'.repeat(43), 'customer');
      expect(await server.authenticate(token)).to.deep.equal({ keyId, role: 'customer', ownerId: 'alice' });
      expect((await server.device('phone'))?.ownerId).to.equal('alice');
      fallBehind();
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(server.progress().caughtUp).to.equal(false);
      await cli.revokeKey(keyId);
      await cli.revokeDevice('phone');
      expect(await server.authenticate(token), 'the revoked key').to.equal(undefined);
      expect(await server.device('phone'), 'the revoked device').to.equal(undefined);
    } finally {
      await server.stop();
    }
  });

  it('refuses to tell whether a holder has a device while its subscription lags, unless it saw one enrol', async () => {
    const { store: followed, fallBehind } = lagging(store);
    const server = createCredentialDirectory({ eventStore: followed, onError: (error) => expect.fail(String(error)) });
    await server.start();
    try {
      const cli = createCredentialCommands({ eventStore: other, clock: () => new Date(), actor: 'cli' });
      await cli.registerDevice('phone', 'alice', 'A'.repeat(43), 'customer');
      expect((await server.device('phone'))?.ownerId).to.equal('alice');
      fallBehind();
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(server.progress().caughtUp).to.equal(false);
      // Another instance enrols bob: this one has not seen it.
      await cli.registerDevice('tablet', 'bob', 'B'.repeat(43), 'customer');
      expect(server.hasDevice('alice', 'customer'), 'an enrolment is never undone').to.equal(true);
      expect(() => server.hasDevice('bob', 'customer'), 'bob, whose device it has not seen')
        .to.throw(CredentialsCatchingUpError)
        .that.includes({ status: 503, retryAfterSeconds: 1 });
    } finally {
      await server.stop();
    }
  });

  it('tells how far it has followed the log, past the events it skips, and waits for a position within a bound', async () => {
    const server = createCredentialDirectory({ eventStore: store, onError: (error) => expect.fail(String(error)) });
    await server.start();
    try {
      const opened = (
        await other.appendToStream(accountStream('acct-1'), [
          { id: randomUUID(), type: 'AccountOpened', data: { accountId: 'acct-1', ownerId: 'alice', kind: 'customer' } },
        ])
      ).position;
      expect(await server.waitFor(opened, 5_000)).to.equal(true);
      expect(server.accountsOf('alice', 'customer')).to.deep.equal(['acct-1']);
      expect(await server.waitFor(opened, 0), 'at once, once there').to.equal(true);
      const transfer = (await other.appendToStream('transfer-1', [{ id: randomUUID(), type: 'TransferRequested', data: {} }])).position;
      expect(await server.waitFor(transfer, 5_000), 'past an event it skips, as the log reports it').to.equal(true);
      expect(server.progress()).to.deep.equal({ position: transfer, caughtUp: true });
      expect(await server.waitFor(transfer + 1_000n, 100), 'a position not written').to.equal(false);
    } finally {
      await server.stop();
    }
  });
});
