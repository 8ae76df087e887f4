import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createEnvelope, deviceKeyRegistered, deviceStream, parseApiKey, rawPublicKey, securityCatalog } from '@folio/shared';
import { startSecuredFolio, type Device, type SecuredFolio } from './securityHarness.js';

// Owner ids come from the product's own records: a customer and a merchant may share one, and
// are still two holders, each with devices of its own.
describe('security: a device belongs to one holder, a customer or a merchant of its owner id', function () {
  this.timeout(30_000);
  let system: SecuredFolio;
  let elsewhere: string;

  before(async () => {
    system = await startSecuredFolio();
    elsewhere = await system.fundedAccount('bob');
  });

  after(() => system?.stop());

  const holders = async (ownerId: string) => ({
    customer: await system.key({ role: 'customer', ownerId }),
    merchant: await system.key({ role: 'merchant', ownerId }),
    wallet: await system.fundedAccount(ownerId, 'customer'),
  });

  const registerAlone = (key: string) =>
    system.request('POST', '/v1/devices', { key, body: { publicKey: rawPublicKey(generateKeyPairSync('ed25519').publicKey) } });

  it("refuses a merchant's device on the customer's money movement under the same owner id", async () => {
    const { customer, merchant, wallet } = await holders('42');
    const merchantsDevice = await system.device(merchant);
    const before = await system.head();
    const answer = await system.request('POST', '/v1/transfers', {
      key: customer,
      device: merchantsDevice,
      body: { fromAccountId: wallet, toAccountId: elsewhere, amount: '10', currency: 'EUR' },
    });
    expect(answer.status).to.equal(401);
    expect(answer.body.type).to.equal('urn:folio:problem:step-up-required');
    expect(answer.body.detail).to.match(/unknown device/);
    expect(await system.head(), 'nothing written').to.equal(before);
  });

  it("takes the customer's first device on its key alone after the merchant of its owner id registered one", async () => {
    const { customer, merchant } = await holders('43');
    await system.device(merchant);
    const first = await registerAlone(customer);
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(first.body).to.include({ ownerId: '43', role: 'customer' });
    // Each is enrolled now: neither key alone adds another.
    expect((await registerAlone(customer)).status).to.equal(401);
    expect((await registerAlone(merchant)).status).to.equal(401);
  });

  it("answers the merchant revoking the customer's device of its owner id as a missing device, and the device still signs", async () => {
    const { customer, merchant, wallet } = await holders('44');
    const device = await system.device(customer);
    const before = await system.head();
    const revoke = await system.request('POST', `/v1/devices/${device.deviceId}/revoke`, { key: merchant, body: {} });
    expect(revoke.status).to.equal(404);
    expect(revoke.body.type).to.equal('urn:folio:problem:not-found');
    expect(await system.head(), 'nothing written').to.equal(before);
    const moved = await system.request('POST', '/v1/transfers', {
      key: customer,
      device,
      body: { fromAccountId: wallet, toAccountId: elsewhere, amount: '10', currency: 'EUR' },
    });
    expect(moved.status).to.equal(201);
  });

  it('reads a device registered before its role was recorded as the role of the key that registered it, and none when an admin did', async () => {
    const { customer, merchant, wallet } = await holders('45');
    // As the log holds them: no role, the registering key in the actor.
    const registeredEarlier = async (key: string): Promise<Device> => {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const deviceId = randomUUID();
      const event = createEnvelope(deviceKeyRegistered, {
        id: randomUUID(),
        data: { deviceId, ownerId: '45', publicKey: rawPublicKey(publicKey) },
        metadata: { $correlationId: randomUUID(), actor: `key:${parseApiKey(key)!.keyId}`, occurredAt: new Date().toISOString() },
      });
      await system.folio.system.eventStore.appendToStream(deviceStream(deviceId), [securityCatalog.encode(event)], { expectedRevision: 'no_stream' });
      return { deviceId, privateKey };
    };
    const move = (device: Device) =>
      system.request('POST', '/v1/transfers', {
        key: customer,
        device,
        body: { fromAccountId: wallet, toAccountId: elsewhere, amount: '1', currency: 'EUR' },
      });
    expect((await move(await registeredEarlier(merchant))).status).to.equal(401);
    expect((await move(await registeredEarlier(system.folio.adminKey))).status).to.equal(401);
    expect((await move(await registeredEarlier(customer))).status).to.equal(201);
  });
});
