import { connect } from 'node:net';
import { expect } from 'chai';
import { startSecuredFolio, type Answer, type RequestOptions, type SecuredFolio } from './securityHarness.js';

/** Bytes straight onto a socket: what fetch refuses to send. */
const rawRequest = (baseUrl: string, text: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(baseUrl);
    const socket = connect(Number(port), hostname, () => socket.end(text));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });

describe('security: hostile input is answered calmly, with nothing written', function () {
  this.timeout(30_000);
  let system: SecuredFolio;
  let account: string;
  let admin: string;

  before(async () => {
    system = await startSecuredFolio();
    admin = system.folio.adminKey;
    account = await system.fundedAccount('alice');
  });

  after(() => system?.stop());

  const refused = async (what: string, send: () => Promise<Answer>, status: number, type?: string) => {
    const before = await system.head();
    const answer = await send();
    expect(answer.status, what).to.equal(status);
    expect(answer.headers.get('content-type'), what).to.contain('application/problem+json');
    if (type !== undefined) expect(answer.body.type, what).to.equal(`urn:folio:problem:${type}`);
    expect(await system.head(), `${what}: nothing written`).to.equal(before);
    return answer;
  };
  const deposit = (options: RequestOptions) => system.request('POST', '/v1/deposits', { key: admin, ...options });
  const valid = { accountId: '', amount: '100', currency: 'EUR', reference: 'ok' };
  const body = (extra: Record<string, unknown> = {}) => ({ ...valid, accountId: account, ...extra });

  it('limits the body size', async () => {
    await refused('64 KiB and more', () => deposit({ body: body({ reference: 'x'.repeat(70_000) }) }), 413, 'payload-too-large');
  });

  it('reads JSON only where JSON is expected', async () => {
    await refused('text/plain', () => deposit({ rawBody: JSON.stringify(body()), contentType: 'text/plain' }), 415, 'unsupported-media-type');
    await refused('a form', () => deposit({ rawBody: 'amount=100', contentType: 'application/x-www-form-urlencoded' }), 415);
    await refused('a charset other than UTF-8', () => deposit({ rawBody: JSON.stringify(body()), contentType: 'application/json; charset=latin1' }), 415);
    await refused('malformed JSON', () => deposit({ rawBody: '{"amount": "100",' }), 400, 'malformed-json');
    for (const value of ['[]', '"text"', 'null', '42']) await refused(`top-level ${value}`, () => deposit({ rawBody: value }), 400, 'validation');
  });

  it('rejects unknown keys, wrong types and inexact or huge amounts', async () => {
    await refused('an unknown key', () => deposit({ body: body({ amout: '100' }) }), 400, 'validation');
    for (const amount of [100, '1e3', '10.5', '-5', '99999999999999999999999999999', 1e308, true, null, { value: 1 }]) {
      await refused(`amount ${JSON.stringify(amount)}`, () => deposit({ body: body({ amount }) }), 400, 'validation');
    }
    await refused('amount as a bare huge number', () => deposit({ rawBody: JSON.stringify(body()).replace('"100"', '1' + '0'.repeat(400)) }), 400);
  });

  it('rejects keys that reach an object prototype, at any depth', async () => {
    for (const raw of [
      `{"__proto__": {"admin": true}, "accountId": "${account}", "amount": "1", "currency": "EUR", "reference": "p"}`,
      `{"constructor": {"prototype": {}}, "accountId": "${account}", "amount": "1", "currency": "EUR", "reference": "p"}`,
    ]) {
      await refused(raw.slice(0, 30), () => deposit({ rawBody: raw }), 400, 'validation');
    }
    const transfer = `{"fromAccountId": "${account}", "toAccountId": "1", "amount": "1", "currency": "EUR", "metadata": {"__proto__": "x"}}`;
    await refused('nested', () => system.request('POST', '/v1/transfers', { key: admin, rawBody: transfer }), 400, 'validation');
    expect(({} as Record<string, unknown>).admin).to.equal(undefined);
  });

  it('normalises Unicode in references and owner ids: a decomposed é names the same holder', async () => {
    const zoe = await system.key({ role: 'customer', ownerId: 'zo\u00eb' });
    const opened = await system.request('POST', '/v1/accounts', { key: zoe, body: { ownerId: 'zoe\u0308', currency: 'EUR', kind: 'customer' } });
    expect(opened.status).to.equal(201);
    expect(opened.body.ownerId).to.equal('zo\u00eb');
    expect((await system.request('GET', `/v1/accounts/${opened.body.id}`, { key: zoe })).status).to.equal(200);
  });

  it('refuses header injection: CR or LF in a header, non-ASCII idempotency keys; never echoes a bad correlation id', async () => {
    const before = await system.head();
    const smuggled = await rawRequest(
      system.folio.baseUrl,
      `POST /v1/deposits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\nIdempotency-Key: a\rSet-Cookie: b\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expect(smuggled).to.match(/^HTTP\/1\.1 400 /);
    expect(smuggled).to.contain('application/problem+json');
    expect(smuggled).to.not.contain('Set-Cookie');
    expect(await system.head()).to.equal(before);
    await refused('a latin-1 idempotency key', () => deposit({ body: body(), idempotencyKey: '\u00e9t\u00e9' }), 400, 'validation');
    const echoed = await system.request('GET', '/v1/currencies', { key: admin, headers: { 'x-correlation-id': 'abc%0d%0aSet-Cookie:x' } });
    expect(echoed.headers.get('x-correlation-id')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('keeps paths inside what they name: no traversal out of the UI files or into other routes', async () => {
    for (const path of ['/ui/..%2f..%2fpackage.json', '/ui/js/..%2f..%2f..%2fpackage.json', '/ui/%2e%2e/%2e%2e/package.json']) {
      const answer = await system.request('GET', path);
      expect(answer.status, path).to.be.within(400, 499);
      expect(String(answer.body)).to.not.contain('"workspaces"');
    }
    await refused('an account id that walks up', () => system.request('GET', '/v1/accounts/..%2f..%2fetc%2fpasswd', { key: admin }), 400, 'validation');
  });

  it('serves the UI with its security headers', async () => {
    const page = await system.request('GET', '/');
    expect(page.headers.get('content-security-policy')).to.contain("default-src 'self'");
    expect(page.headers.get('x-frame-options')).to.equal('DENY');
    expect(page.headers.get('x-content-type-options')).to.equal('nosniff');
  });
});
