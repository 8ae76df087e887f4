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
  type SqliteEventStore,
} from '../../src/index.js';
import { listen, type TestServer } from '../http/httpTestServer.js';

/**
 * The buckets kept by client address, for clients that hold many addresses: an IPv6 client is
 * given a /64 at least, and rotating addresses within it must not give it fresh buckets.
 */
describe('security: rate limits by client address', () => {
  let directory: string;
  let store: SqliteEventStore;
  let server: TestServer | undefined;
  let security: ReturnType<typeof composeSecurity> | undefined;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'folio-address-limits-'));
    store = openSqliteEventStore({ path: join(directory, 'events.sqlite') });
  });

  afterEach(async () => {
    await server?.close();
    await security?.stop();
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /**
   * The gate in front of a stand-in currencies route. Every test request comes over loopback, so
   * the gate is told each client's address by a trusted proxy's `X-Forwarded-For`.
   */
  const gate = async (environment: Record<string, string>) => {
    const { token } = await createCredentialCommands({ eventStore: store, clock: () => new Date(), actor: 'test' }).createKey({ role: 'auditor' });
    const started = composeSecurity({ eventStore: store, config: loadConfig(environment), logger: createLogger({ service: 'folio', level: 'silent' }) });
    security = started;
    await started.start({ bootstrap: false });
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(started.middleware);
    app.get('/v1/currencies', (_request, response) => {
      response.json({ currencies: [] });
    });
    app.use(problemDetailsHandler());
    server = await listen(app);
    const from = async (address: string, key: string) =>
      (await fetch(`${server!.url}/v1/currencies`, { headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': address } })).status;
    return { from, goodKey: token };
  };

  const wrongKey = `folio_0123456789abcdef_${'A'.repeat(43)}`;

  it('locks out an IPv6 client that guesses keys from a fresh address of its /64 each time', async () => {
    const { from, goodKey } = await gate({ FOLIO_RATE_FAILURES_BURST: '3', FOLIO_RATE_FAILURES_PER_MINUTE: '1' });
    const statuses: number[] = [];
    for (const host of ['a', 'b', 'c', 'd']) statuses.push(await from(`2001:db8:1:2::${host}`, wrongKey));
    expect(statuses).to.deep.equal([401, 401, 401, 429]);
    expect(await from('2001:0db8:0001:0002:ffff:0000:0000:0001', goodKey), 'another address of the same /64, with a good key').to.equal(429);
    expect(await from('2001:db8:1:3::a', goodKey), 'the next /64 is another client').to.equal(200);
    expect(await from('198.51.100.7', goodKey), 'an IPv4 client').to.equal(200);
  });

  it('limits every request of an IPv6 client by its /64, however its addresses are spelt', async () => {
    const { from, goodKey } = await gate({ FOLIO_RATE_IP_BURST: '3', FOLIO_RATE_IP_PER_SECOND: '0.1' });
    const statuses: number[] = [];
    for (const address of ['2001:db8:aa::1', '2001:DB8:AA:0:1:2:3:4', '2001:0db8:00aa:0000:0000:0000:0000:0001', '2001:db8:aa::ffff'])
      statuses.push(await from(address, goodKey));
    expect(statuses).to.deep.equal([200, 200, 200, 429]);
  });

  it('knows an IPv4 client by its IPv4 address when it comes as an IPv4-mapped IPv6 address', async () => {
    const { from, goodKey } = await gate({ FOLIO_RATE_IP_BURST: '2', FOLIO_RATE_IP_PER_SECOND: '0.1' });
    const statuses = [await from('198.51.100.7', goodKey), await from('::ffff:198.51.100.7', goodKey), await from('::ffff:c633:6407', goodKey)];
    expect(statuses).to.deep.equal([200, 200, 429]);
    expect(await from('198.51.100.8', goodKey), 'the next IPv4 address is another client').to.equal(200);
  });
});
