import { generateKeyPairSync } from 'node:crypto';
import { get } from 'node:http';
import { MAX_BATCH_TRANSFERS } from '@folio/shared';
import { expect } from 'chai';
import { startSecuredFolio, type Device, type SecuredFolio } from './securityHarness.js';

/** `GET /metrics` from another loopback address (fetch cannot choose its source address). */
const scrapeFrom = (localAddress: string, baseUrl: string, key: string): Promise<string> =>
  new Promise((resolve, reject) => {
    get(`${baseUrl}/metrics`, { localAddress, headers: { authorization: `Bearer ${key}` } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => (response.statusCode === 200 ? resolve(text) : reject(new Error(`/metrics answered ${response.statusCode}: ${text}`))));
    }).on('error', reject);
  });

/** A batch of `count` transfers of one cent from `from` to `to`, sent with the admin key. */
const batchOf = (system: SecuredFolio, from: string, to: string, count: number) =>
  system.request('POST', '/v1/transfers/batch', {
    key: system.folio.adminKey,
    body: { transfers: Array.from({ length: count }, () => ({ fromAccountId: from, toAccountId: to, amount: '1', currency: 'EUR' })) },
  });

describe('security: rate limits', function () {
  this.timeout(30_000);

  it('answers 429 with Retry-After once a key has spent its money-moving burst, and writes nothing then', async () => {
    const system = await startSecuredFolio({ FOLIO_RATE_MONEY_BURST: '3', FOLIO_RATE_MONEY_PER_SECOND: '0.1' });
    try {
      const from = await system.fundedAccount('alice');
      const to = await system.fundedAccount('bob');
      const operator = await system.key({ role: 'operator' });
      const admin = system.folio.adminKey;
      const transfer = () =>
        system.request('POST', '/v1/transfers', { key: admin, body: { fromAccountId: from, toAccountId: to, amount: '1', currency: 'EUR' } });
      // fundedAccount made two deposits with the admin key: one token left.
      expect((await transfer()).status).to.equal(201);
      const before = await system.head();
      const limited = await transfer();
      expect(limited.status).to.equal(429);
      expect(limited.body.type).to.equal('urn:folio:problem:rate-limited');
      expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 10);
      expect(await system.head()).to.equal(before);
      // Reads are not money movements, and other keys have their own buckets.
      expect((await system.request('GET', `/v1/accounts/${from}`, { key: admin })).status).to.equal(200);
      const deposit = await system.request('POST', '/v1/deposits', {
        key: operator,
        body: { accountId: from, amount: '1', currency: 'EUR', reference: 'operator' },
      });
      expect(deposit.status).to.equal(201);
    } finally {
      await system.stop();
    }
  });

  it('charges a batch of transfers a money movement for each: refused whole, writing nothing, when the key has not that many left', async () => {
    const system = await startSecuredFolio({ FOLIO_RATE_MONEY_BURST: '5', FOLIO_RATE_MONEY_PER_SECOND: '0.01' });
    try {
      const from = await system.fundedAccount('alice');
      const to = await system.fundedAccount('bob');
      const admin = system.folio.adminKey;
      const batch = (count: number) => batchOf(system, from, to, count);
      // fundedAccount made two deposits with the admin key: three tokens left.
      const before = await system.head();
      const limited = await batch(4);
      expect(limited.status).to.equal(429);
      expect(limited.body.type).to.equal('urn:folio:problem:rate-limited');
      expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 100);
      expect(await system.head()).to.equal(before);
      const moved = await batch(3);
      expect(moved.status).to.equal(200);
      expect(moved.body.results.map((result: { status: number }) => result.status)).to.deep.equal([201, 201, 201]);
      const single = await system.request('POST', '/v1/transfers', { key: admin, body: { fromAccountId: from, toAccountId: to, amount: '1', currency: 'EUR' } });
      expect(single.status, 'the batch spent the last three').to.equal(429);
    } finally {
      await system.stop();
    }
  });

  it('refuses a batch carrying more transfers than the key may ever move at once, saying how to split it', async () => {
    const system = await startSecuredFolio({ FOLIO_RATE_MONEY_BURST: '5', FOLIO_RATE_MONEY_PER_SECOND: '0.01' });
    try {
      const from = await system.fundedAccount('alice');
      const to = await system.fundedAccount('bob');
      const before = await system.head();
      const refused = await batchOf(system, from, to, 6);
      expect(refused.status).to.equal(429);
      expect(refused.body.type).to.equal('urn:folio:problem:rate-limited');
      expect(refused.body.detail).to.match(/at most 5/);
      expect(refused.headers.get('retry-after'), 'no wait lets it through').to.equal(null);
      expect(await system.head()).to.equal(before);
    } finally {
      await system.stop();
    }
  });

  it('refuses a batch over the route\'s maximum as the route does, for one money movement, not one per transfer', async () => {
    // Room for the two deposits of fundedAccount, the refused batch's one, and a full batch.
    const system = await startSecuredFolio({ FOLIO_RATE_MONEY_BURST: String(MAX_BATCH_TRANSFERS + 3), FOLIO_RATE_MONEY_PER_SECOND: '0.01' });
    try {
      const from = await system.fundedAccount('alice');
      const to = await system.fundedAccount('bob');
      const batch = (count: number) => batchOf(system, from, to, count);
      const before = await system.head();
      const refused = await batch(MAX_BATCH_TRANSFERS + 1);
      expect(refused.status).to.equal(400);
      expect(refused.body.type).to.equal('urn:folio:problem:validation');
      expect(refused.body.detail).to.contain(String(MAX_BATCH_TRANSFERS));
      expect(await system.head()).to.equal(before);
      const full = await batch(MAX_BATCH_TRANSFERS);
      expect(full.status, 'the refused batch spent one token, leaving a full batch\'s').to.equal(200);
    } finally {
      await system.stop();
    }
  });

  it('locks an address out after repeated failed authentications, even for a good key (card testing)', async () => {
    const system = await startSecuredFolio({ FOLIO_RATE_FAILURES_BURST: '5', FOLIO_RATE_FAILURES_PER_MINUTE: '1' });
    try {
      const wrong = `folio_0123456789abcdef_${'A'.repeat(43)}`;
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 7; attempt++) statuses.push((await system.request('GET', '/v1/currencies', { key: wrong })).status);
      expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429, 429]);
      const good = await system.request('GET', '/v1/currencies', { key: system.folio.adminKey });
      expect(good.status).to.equal(429);
      expect(Number(good.headers.get('retry-after'))).to.be.within(1, 60);
      // The scraper calls from an address of its own: this one is locked out.
      const metrics = await scrapeFrom('127.0.0.2', system.folio.baseUrl, system.folio.adminKey);
      expect(metrics).to.contain('folio_security_refusals_total{reason="unauthenticated"} 5');
      expect(metrics).to.contain('folio_security_refusals_total{reason="rate-limited"} 3');
    } finally {
      await system.stop();
    }
  });

  it('counts failed signatures as failed authentications', async () => {
    const system = await startSecuredFolio({ FOLIO_RATE_FAILURES_BURST: '2', FOLIO_RATE_FAILURES_PER_MINUTE: '1' });
    try {
      const alice = await system.key({ role: 'customer', ownerId: 'alice' });
      const from = await system.fundedAccount('alice');
      const to = await system.fundedAccount('bob');
      const body = { fromAccountId: from, toAccountId: to, amount: '1', currency: 'EUR' };
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) statuses.push((await system.request('POST', '/v1/transfers', { key: alice, body })).status);
      expect(statuses).to.deep.equal([401, 401, 429]);
    } finally {
      await system.stop();
    }
  });

  it("spends a device's bucket on its own signatures only: requests naming it that do not verify leave it whole", async () => {
    const system = await startSecuredFolio({ FOLIO_RATE_DEVICE_BURST: '2', FOLIO_RATE_DEVICE_PER_SECOND: '0.01' });
    try {
      const alice = await system.key({ role: 'customer', ownerId: 'alice' });
      const phone = await system.device(alice);
      const from = await system.fundedAccount('alice');
      const to = await system.fundedAccount('bob');
      const transfer = (device: Device) =>
        system.request('POST', '/v1/transfers', { key: alice, device, body: { fromAccountId: from, toAccountId: to, amount: '1', currency: 'EUR' } });
      // Alice's key and her phone's id, without the phone's private key.
      const forged = { deviceId: phone.deviceId, privateKey: generateKeyPairSync('ed25519').privateKey };
      const forgedStatuses: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) forgedStatuses.push((await transfer(forged)).status);
      expect(forgedStatuses).to.deep.equal([401, 401, 401]);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) statuses.push((await transfer(phone)).status);
      expect(statuses, 'the phone still has its whole burst, and no more').to.deep.equal([201, 201, 429]);
    } finally {
      await system.stop();
    }
  });

  it('limits every request by address and by key', async () => {
    const system = await startSecuredFolio({ FOLIO_RATE_KEY_BURST: '3', FOLIO_RATE_KEY_PER_SECOND: '0.1' });
    try {
      const auditor = await system.key({ role: 'auditor' });
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 4; attempt++) statuses.push((await system.request('GET', '/v1/currencies', { key: auditor })).status);
      expect(statuses).to.deep.equal([200, 200, 200, 429]);
    } finally {
      await system.stop();
    }
    const byAddress = await startSecuredFolio({ FOLIO_RATE_IP_BURST: '3', FOLIO_RATE_IP_PER_SECOND: '0.1' });
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 4; attempt++) statuses.push((await byAddress.request('GET', '/ui/folio.css')).status);
      expect(statuses).to.deep.equal([200, 200, 200, 429]);
    } finally {
      await byAddress.stop();
    }
  });
});
