import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { rawPublicKey, signRequest } from '@folio/shared';
import { startSecuredFolio, type SecuredFolio } from './securityHarness.js';

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
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now - 301, now + 301]) {
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

  it('registers only well-formed Ed25519 public keys', async () => {
    const before = await system.head();
    for (const publicKey of ['', 'AAAA', `${'x'.repeat(42)}!`, Buffer.alloc(32, 0xff).toString('base64url') + '=']) {
      const answer = await system.request('POST', '/v1/devices', { key: alice, body: { publicKey } });
      expect(answer.status, publicKey).to.equal(400);
    }
    const rsa = await system.request('POST', '/v1/devices', { key: alice, body: { publicKey: 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' } });
    expect(rsa.status).to.equal(400);
    const forBob = await system.request('POST', '/v1/devices', {
      key: alice,
      body: { publicKey: rawPublicKey(generateKeyPairSync('ed25519').publicKey), ownerId: 'bob' },
    });
    expect(forBob.status).to.equal(403);
    expect(await system.head()).to.equal(before);
  });
});
