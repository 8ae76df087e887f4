import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { RequestHandler } from 'express';
import {
  collect,
  composeSecurity,
  createLogger,
  createMetrics,
  createServiceApp,
  generateApiKey,
  generatedSigner,
  loadConfig,
  PERIOD_STREAM,
  type AuditSigner,
  type EventStore,
} from '../../src/index.js';
import { openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';

/** The audit API is the query side's, built after this package: loaded from its build, as the CLI test runs standalone's. */
const auditApiModule = new URL('../../../../query-side/dist/src/audit/auditApi.js', import.meta.url).href;

describe('audit API in front of the log (query side)', () => {
  let audit: AuditStore;
  let url: string;
  let close: () => Promise<void>;
  const admin = generateApiKey();

  before(async () => {
    audit = openAuditStore();
    await writeHistory(audit.store, { accounts: 1, movements: 1, seed: 2 });
    const logger = createLogger({ service: 'test', level: 'silent' });
    const config = loadConfig({ FOLIO_DATA_DIR: audit.directory, FOLIO_BOOTSTRAP_ADMIN_KEY: admin.token });
    const security = composeSecurity({ eventStore: audit.store, config, logger });
    await security.start({ bootstrap: true });
    const { createAuditApi } = (await import(auditApiModule)) as {
      createAuditApi: (options: { eventStore: EventStore; signer: AuditSigner }) => RequestHandler;
    };
    const app = createServiceApp({
      eventStore: audit.store,
      guard: security.middleware,
      routers: [createAuditApi({ eventStore: audit.store, signer: generatedSigner() })],
      logger,
      metrics: createMetrics(),
      readyMaxLagSeconds: 60,
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await security.stop();
    };
  });
  after(async () => {
    await close();
    await audit.dispose();
  });

  const request = (path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('records the authenticated key as the actor of a period close, whatever name the request gives', async () => {
    const response = await request('/v1/audit/periods', { periodId: '2025-12', effectiveUntil: '2025-12-31', actor: 'someone-else' });
    expect(response.status, await response.clone().text()).to.equal(201);
    const [closed] = await collect(audit.raw.readStream(PERIOD_STREAM));
    expect(closed!.metadata?.actor).to.equal(`key:${admin.keyId}`);
  });

  it('answers 400 problem+json naming a position beyond the head of the log', async () => {
    const beyond = ((await audit.raw.headPosition())! + 1n).toString();
    for (const response of [
      await request(`/v1/audit/export?position=${beyond}`),
      await request(`/v1/audit/trial-balance?position=${beyond}`),
      await request('/v1/audit/periods', { periodId: '2026-01', effectiveUntil: '2026-01-31', position: beyond }),
    ]) {
      expect(response.status).to.equal(400);
      expect(response.headers.get('content-type')).to.contain('application/problem+json');
      expect(((await response.json()) as { detail: string }).detail).to.contain(`position ${beyond} is beyond the head of the log`);
    }
  });
});
