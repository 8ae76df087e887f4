import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import express from 'express';
import {
  composeSecurity,
  createCredentialCommands,
  createLogger,
  loadConfig,
  openSqliteEventStore,
  problemDetailsHandler,
  rawPublicKey,
  signRequest,
  type SqliteEventStore,
} from '../../src/index.js';
import { listen, type TestServer } from '../http/httpTestServer.js';
import { lagging } from './laggingSubscription.js';

/**
 * A holder's first device comes with its key alone, a further one signed by a device it has. A
 * server whose following of the log lags may not have seen a device another instance enrolled:
 * it does not take a bearer key alone as a first enrolment then.
 */
describe('security: enrolling a device while the credentials lag behind the log', () => {
  let directory: string;
  let store: SqliteEventStore;
  let other: SqliteEventStore;
  let server: TestServer | undefined;
  let security: ReturnType<typeof composeSecurity> | undefined;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'folio-enrolment-'));
    store = openSqliteEventStore({ path: join(directory, 'events.sqlite') });
    // Another instance of the write API on the same log.
    other = openSqliteEventStore({ path: join(directory, 'events.sqlite') });
  });

  afterEach(async () => {
    await server?.close();
    await security?.stop();
    await store.close();
    await other.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /**
   * The gate in front of a stand-in devices route (what reaches it is recorded), following a log
   * that another instance writes keys for alice and bob to, and able to fall behind it.
   */
  const gateOverLaggingLog = async () => {
    const { store: followed, fallBehind } = lagging(store);
    const started = composeSecurity({ eventStore: followed, config: loadConfig({}), logger: createLogger({ service: 'folio', level: 'silent' }) });
    security = started;
    await started.start({ bootstrap: false });
    const reached: string[] = [];
    const app = express();
    app.use(started.middleware);
    app.post('/v1/devices', (_request, response) => {
      reached.push('enrolment');
      response.status(201).json({});
    });
    app.use(problemDetailsHandler());
    server = await listen(app);
    const elsewhere = createCredentialCommands({ eventStore: other, clock: () => new Date(), actor: 'test' });
    const alice = (await elsewhere.createKey({ role: 'customer', ownerId: 'alice' })).token;
    const bob = (await elsewhere.createKey({ role: 'customer', ownerId: 'bob' })).token;
    return { security: started, fallBehind, reached, elsewhere, alice, bob };
  };

  it("passes a holder's first device on its key alone while live, and answers one 503 credentials-catching-up with Retry-After while behind", async () => {
    const { security, fallBehind, reached, elsewhere, alice, bob } = await gateOverLaggingLog();
    const enrolAlone = (key: string) =>
      fetch(`${server!.url}/v1/devices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ publicKey: rawPublicKey(generateKeyPairSync('ed25519').publicKey) }),
      });

    expect((await enrolAlone(bob)).status, "bob's first device, while live").to.equal(201);

    fallBehind();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(security.directory.progress().caughtUp).to.equal(false);
    await elsewhere.registerDevice('alices-phone', 'alice', rawPublicKey(generateKeyPairSync('ed25519').publicKey), 'customer');

    const refused = await enrolAlone(alice);
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('retry-after')).to.equal('1');
    expect(refused.headers.get('content-type')).to.match(/^application\/problem\+json/);
    const problem = (await refused.json()) as { type: string; detail: string };
    expect(problem.type).to.equal('urn:folio:problem:credentials-catching-up');
    expect(problem.detail).to.match(/retry/);
    expect(reached, 'the refused enrolment never reached the route').to.deep.equal(['enrolment']);
  });

  it("decides an enrolment signed by the holder's device while behind: its own stream shows the holder enrolled", async () => {
    const { security, fallBehind, reached, elsewhere, alice, bob } = await gateOverLaggingLog();
    fallBehind();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(security.directory.progress().caughtUp).to.equal(false);
    const alicesPhone = generateKeyPairSync('ed25519');
    await elsewhere.registerDevice('alices-phone', 'alice', rawPublicKey(alicesPhone.publicKey), 'customer');
    await elsewhere.registerDevice('bobs-phone', 'bob', rawPublicKey(generateKeyPairSync('ed25519').publicKey), 'customer');

    const enrolSigned = (key: string, privateKey: typeof alicesPhone.privateKey, deviceId: string) => {
      const body = JSON.stringify({ publicKey: rawPublicKey(generateKeyPairSync('ed25519').publicKey) });
      const headers = signRequest(privateKey, deviceId, { method: 'POST', path: '/v1/devices', body, idempotencyKey: undefined, timestamp: Math.floor(Date.now() / 1000) });
      return fetch(`${server!.url}/v1/devices`, {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
    };

    // A device it cannot find tells nothing of whether alice has one.
    const unknown = await enrolSigned(alice, generateKeyPairSync('ed25519').privateKey, 'no-such-device');
    expect(unknown.status, 'naming a device never registered').to.equal(503);
    expect((await enrolSigned(alice, alicesPhone.privateKey, 'alices-phone')).status, "signed by alice's phone").to.equal(201);
    const forged = await enrolSigned(bob, generateKeyPairSync('ed25519').privateKey, 'bobs-phone');
    expect(forged.status, "naming bob's phone without its key").to.equal(401);
    expect(((await forged.json()) as { type: string }).type).to.equal('urn:folio:problem:step-up-required');
    expect(reached).to.deep.equal(['enrolment']);
  });
});
