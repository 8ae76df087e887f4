import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { DEVICE_ID_HEADER, rawPublicKey, SIGNATURE_HEADER, signRequest, TIMESTAMP_HEADER } from '@folio/shared';
import { startSecuredFolio, type Device, type SecuredFolio } from './securityHarness.js';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The neutral point as an Ed25519 public key: of small order, so signatures under it can be forged. */
const IDENTITY_KEY = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]).toString('base64url');

describe("security: step-up signatures on customers' money movements", function () {
  this.timeout(30_000);
  let system: SecuredFolio;
  let alice: string;
  let aliceAccount: string;
  let bobAccount: string;

  before(async () => {
    system = await startSecuredFolio();
    alice = await system.key({ role: 'customer', ownerId: 'alice' });
    aliceAccount = await system.fundedAccount('alice');
    bobAccount = await system.fundedAccount('bob');
  });

  after(() => system?.stop());

  const transfer = (amount = '10') => ({ fromAccountId: aliceAccount, toAccountId: bobAccount, amount, currency: 'EUR' });

  const expectRefused = async (answer: { status: number; body: any }, detail: RegExp, before: bigint) => {
    expect(answer.status).to.equal(401);
    expect(answer.body.type).to.equal('urn:folio:problem:step-up-required');
    expect(answer.body.detail).to.match(detail);
    expect(await system.head(), 'nothing written').to.equal(before);
  };

  it('moves money with a fresh signature by a device the holder registered', async () => {
    const device = await system.device(alice);
    const answer = await system.request('POST', '/v1/transfers', { key: alice, device, body: transfer() });
    expect(answer.status).to.equal(201);
    expect(answer.body.status).to.equal('completed');
  });

  it('refuses a missing signature', async () => {
    await expectRefused(await system.request('POST', '/v1/transfers', { key: alice, body: transfer() }), /send Folio-Device-Id/, await system.head());
  });

  it('refuses a signature over another body, path or idempotency key', async () => {
    const device = await system.device(alice);
    const before = await system.head();
    const signed = { body: transfer('10'), idempotencyKey: 'signed-key' };
    // The signature covers 10; the body sent says 9999.
    const headers = signRequest(device.privateKey, device.deviceId, {
      method: 'POST',
      path: '/v1/transfers',
      body: JSON.stringify(signed.body),
      idempotencyKey: signed.idempotencyKey,
      timestamp: Math.floor(Date.now() / 1000),
    });
    const tampered = await system.request('POST', '/v1/transfers', { key: alice, body: transfer('9999'), idempotencyKey: 'signed-key', headers });
    await expectRefused(tampered, /does not verify/, before);
    const otherKey = await system.request('POST', '/v1/transfers', { key: alice, body: transfer('10'), idempotencyKey: 'other-key', headers });
    await expectRefused(otherKey, /does not verify/, before);
    const otherPath = await system.request('POST', '/v1/payouts', {
      key: alice,
      body: { accountId: aliceAccount, amount: '10', currency: 'EUR', provider: 'sandbox', destination: 'iban' },
      idempotencyKey: 'signed-key',
      headers,
    });
    await expectRefused(otherPath, /does not verify/, before);
  });

  it('refuses a timestamp more than five minutes away, either way', async () => {
    const device = await system.device(alice);
    const before = await system.head();
    // Taken just before each request, with a few seconds to spare: a slow request must not bring
    // a timestamp ahead of the server's clock back within the tolerance.
    for (const offset of [-305, 305]) {
      const timestamp = Math.floor(Date.now() / 1000) + offset;
      await expectRefused(await system.request('POST', '/v1/transfers', { key: alice, device, timestamp, body: transfer() }), /more than 300 s/, before);
    }
  });

  it('refuses a replayed signature, even under the same idempotency key', async () => {
    const device = await system.device(alice);
    const body = transfer('11');
    const headers = signRequest(device.privateKey, device.deviceId, {
      method: 'POST',
      path: '/v1/transfers',
      body: JSON.stringify(body),
      idempotencyKey: 'replayed',
      timestamp: Math.floor(Date.now() / 1000),
    });
    const first = await system.request('POST', '/v1/transfers', { key: alice, body, idempotencyKey: 'replayed', headers });
    expect(first.status).to.equal(201);
    const before = await system.head();
    await expectRefused(await system.request('POST', '/v1/transfers', { key: alice, body, idempotencyKey: 'replayed', headers }), /already used/, before);
  });

  it('refuses a signature spelt other than canonically, so a replay cannot pass as new', async () => {
    const device = await system.device(alice);
    const body = JSON.stringify(transfer('12'));
    const sign = (idempotencyKey: string) =>
      signRequest(device.privateKey, device.deviceId, { method: 'POST', path: '/v1/transfers', body, idempotencyKey, timestamp: Math.floor(Date.now() / 1000) });
    // The last character's 4 low bits are unused: flipping the lowest spells the same 64 bytes.
    const respelt = (signature: string) => `${signature.slice(0, -1)}${BASE64URL[BASE64URL.indexOf(signature.at(-1)!) ^ 1]}`;
    const fresh = sign('respelt-fresh');
    const before = await system.head();
    const firstUse = await system.request('POST', '/v1/transfers', {
      key: alice,
      rawBody: body,
      idempotencyKey: 'respelt-fresh',
      headers: { ...fresh, 'Folio-Signature': respelt(fresh['Folio-Signature']!) },
    });
    await expectRefused(firstUse, /canonically encoded/, before);
    const used = sign('respelt-replay');
    expect((await system.request('POST', '/v1/transfers', { key: alice, rawBody: body, idempotencyKey: 'respelt-replay', headers: used })).status).to.equal(201);
    const head = await system.head();
    const replay = await system.request('POST', '/v1/transfers', {
      key: alice,
      rawBody: body,
      idempotencyKey: 'respelt-replay',
      headers: { ...used, 'Folio-Signature': respelt(used['Folio-Signature']!) },
    });
    await expectRefused(replay, /canonically encoded/, head);
  });

  it("refuses another holder's device and an unknown one", async () => {
    const bob = await system.key({ role: 'customer', ownerId: 'bob' });
    const bobsDevice = await system.device(bob);
    const before = await system.head();
    await expectRefused(await system.request('POST', '/v1/transfers', { key: alice, device: bobsDevice, body: transfer() }), /unknown device/, before);
    await expectRefused(
      await system.request('POST', '/v1/transfers', { key: alice, device: { ...bobsDevice, deviceId: 'no-such-device' }, body: transfer() }),
      /unknown device/,
      before,
    );
  });

  it('needs no signature from an admin, or from a customer reading', async () => {
    const admin = await system.request('POST', '/v1/transfers', { key: system.folio.adminKey, body: transfer('1') });
    expect(admin.status).to.equal(201);
    expect((await system.request('GET', `/v1/accounts/${aliceAccount}`, { key: alice })).status).to.equal(200);
  });

  describe('adding devices', () => {
    const register = (key: string, options: { device?: Device } = {}) =>
      system.request('POST', '/v1/devices', { key, body: { publicKey: rawPublicKey(generateKeyPairSync('ed25519').publicKey) }, ...options });

    it('takes a holder\'s first device on its key alone, and every further one only signed by a device it has', async () => {
      const dora = await system.key({ role: 'customer', ownerId: 'dora' });
      const first = await system.device(dora);
      const before = await system.head();
      // A stolen key alone cannot enrol a device of its own.
      await expectRefused(await register(dora), /send Folio-Device-Id/, before);
      const eve = await system.key({ role: 'customer', ownerId: 'eve' });
      await expectRefused(await register(dora, { device: await system.device(eve) }), /unknown device/, await system.head());
      const second = await register(dora, { device: first });
      expect(second.status).to.equal(201);
      expect(second.body.ownerId).to.equal('dora');
    });

    it('asks the same of a merchant, and nothing of an admin registering for a holder', async () => {
      const shop = await system.key({ role: 'merchant', ownerId: 'dora-shop' });
      await system.device(shop);
      const before = await system.head();
      await expectRefused(await register(shop), /send Folio-Device-Id/, before);
      const admin = await system.request('POST', '/v1/devices', {
        key: system.folio.adminKey,
        body: { publicKey: rawPublicKey(generateKeyPairSync('ed25519').publicKey), ownerId: 'dora-shop', role: 'merchant' },
      });
      expect(admin.status).to.equal(201);
    });
  });

  it('refuses a revoked device at once; only its holder or an admin revokes it', async () => {
    const gus = await system.key({ role: 'customer', ownerId: 'gus' });
    const gusAccount = await system.fundedAccount('gus');
    const lost = await system.device(gus);
    const kept = await system.device(gus);
    const move = (device: Device) =>
      system.request('POST', '/v1/transfers', { key: gus, device, body: { fromAccountId: gusAccount, toAccountId: bobAccount, amount: '1', currency: 'EUR' } });
    expect((await move(lost)).status).to.equal(201);
    const byAlice = await system.request('POST', `/v1/devices/${lost.deviceId}/revoke`, { key: alice, body: {} });
    expect(byAlice.status).to.equal(404);
    expect((await move(lost)).status, "another holder cannot revoke it").to.equal(201);
    const revoked = await system.request('POST', `/v1/devices/${lost.deviceId}/revoke`, { key: gus, body: {} });
    expect(revoked.status).to.equal(200);
    expect(revoked.body).to.include({ deviceId: lost.deviceId, revoked: true });
    // Its retry (an answer lost on the way) answers the same, writing nothing more.
    const head = await system.head();
    const again = await system.request('POST', `/v1/devices/${lost.deviceId}/revoke`, { key: gus, body: {} });
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(again.body).to.deep.equal(revoked.body);
    expect(await system.head()).to.equal(head);
    await expectRefused(await move(lost), /unknown device/, await system.head());
    // A stolen key cannot enrol a device of its own in the lost one's place.
    await expectRefused(
      await system.request('POST', '/v1/devices', { key: gus, body: { publicKey: rawPublicKey(generateKeyPairSync('ed25519').publicKey) } }),
      /send Folio-Device-Id/,
      await system.head(),
    );
    expect((await move(kept)).status).to.equal(201);
    const byAdmin = await system.request('POST', `/v1/devices/${kept.deviceId}/revoke`, { key: system.folio.adminKey, body: {} });
    expect(byAdmin.status).to.equal(200);
    await expectRefused(await move(kept), /unknown device/, await system.head());
  });

  it('registers only well-formed Ed25519 public keys', async () => {
    const device = await system.device(alice);
    const before = await system.head();
    for (const publicKey of ['', 'AAAA', `${'x'.repeat(42)}!`, Buffer.alloc(32, 0xff).toString('base64url') + '=']) {
      const answer = await system.request('POST', '/v1/devices', { key: alice, device, body: { publicKey } });
      expect(answer.status, publicKey).to.equal(400);
    }
    const rsa = await system.request('POST', '/v1/devices', { key: alice, device, body: { publicKey: 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' } });
    expect(rsa.status).to.equal(400);
    const weak = await system.request('POST', '/v1/devices', { key: alice, device, body: { publicKey: IDENTITY_KEY } });
    expect(weak.status).to.equal(400);
    expect(weak.body.errors).to.deep.equal([
      {
        path: 'body.publicKey',
        message:
          'a weak Ed25519 key (a point of small order, or outside the prime-order group), for which signatures can be forged: generate a key pair with an Ed25519 implementation',
      },
    ]);
    const forBob = await system.request('POST', '/v1/devices', {
      key: alice,
      device,
      body: { publicKey: rawPublicKey(generateKeyPairSync('ed25519').publicKey), ownerId: 'bob' },
    });
    expect(forBob.status).to.equal(403);
    expect(await system.head()).to.equal(before);
  });

  it('verifies nothing with a weak key registered before weak keys were refused', async () => {
    const deviceId = `weak-${Date.now()}`;
    await system.commands.registerDevice(deviceId, 'alice', IDENTITY_KEY, 'customer');
    const before = await system.head();
    const body = JSON.stringify(transfer());
    // R = the identity, S = 0: what verifies for any message under the identity as a key.
    const forged = Buffer.concat([Buffer.from(IDENTITY_KEY, 'base64url'), Buffer.alloc(32)]).toString('base64url');
    const answer = await system.request('POST', '/v1/transfers', {
      key: alice,
      rawBody: body,
      headers: { [DEVICE_ID_HEADER]: deviceId, [TIMESTAMP_HEADER]: String(Math.floor(Date.now() / 1000)), [SIGNATURE_HEADER]: forged },
    });
    await expectRefused(answer, /the signature does not verify/, before);
  });
});
