import { expect } from 'chai';
import { Router } from 'express';
import { beginDraining, createLogger, createMetrics, createServiceApp, type EventStore } from '../../src/index.js';
import { capturedLog } from '../../src/testing/index.js';
import { listen } from './httpTestServer.js';

const eventStore = { kind: 'sqlite', headPosition: () => Promise.resolve(7n) } as Partial<EventStore> as EventStore;

describe('a service app while its process drains', () => {
  it('answers readiness with 503 shutting-down once draining begins, and every other request as before', async () => {
    const app = createServiceApp({
      eventStore,
      guard: (_request, _response, next) => next(),
      routers: [Router().get('/v1/transactions', (_request, response) => void response.json({ items: [] }))],
      logger: createLogger({ service: 'query-side', level: 'silent' }),
      metrics: createMetrics(),
      readyMaxLagSeconds: 10,
    });
    const server = await listen(app);
    try {
      expect((await fetch(`${server.url}/readyz`)).status).to.equal(200);

      beginDraining(app);
      const draining = await fetch(`${server.url}/readyz`);
      expect(draining.status).to.equal(503);
      expect(draining.headers.get('content-type')).to.match(/^application\/problem\+json/);
      const problem = (await draining.json()) as { type: string; detail: string };
      expect(problem.type).to.equal('urn:folio:problem:shutting-down');
      expect(problem.detail).to.match(/shutting down/);
      expect((await fetch(`${server.url}/healthz`)).status, 'still alive: it is not to be restarted').to.equal(200);
      expect((await fetch(`${server.url}/v1/transactions`)).status, 'requests that reach it are still served').to.equal(200);
    } finally {
      await server.close();
    }
  });

  it("logs its readiness 503s at warn: they tell the process's state, and the faults behind them are logged where they happen", async () => {
    const log = capturedLog();
    const unreachable = { kind: 'sqlite', headPosition: () => Promise.reject(new Error('store down')) } as Partial<EventStore> as EventStore;
    const app = createServiceApp({
      eventStore: unreachable,
      guard: (_request, _response, next) => next(),
      routers: [Router().get('/v1/broken', () => Promise.reject(new Error('broken')))],
      logger: createLogger({ service: 'query-side', destination: log.destination }),
      metrics: createMetrics(),
      readyMaxLagSeconds: 10,
    });
    const server = await listen(app);
    try {
      expect((await fetch(`${server.url}/readyz`)).status, 'unready').to.equal(503);
      beginDraining(app);
      expect((await fetch(`${server.url}/readyz`)).status, 'draining').to.equal(503);
      expect((await fetch(`${server.url}/v1/broken`)).status).to.equal(500);
    } finally {
      await server.close();
    }
    const answered = log.lines().filter(({ msg }) => msg === 'request answered');
    expect(answered.map(({ path, status, level }) => ({ path, status, level }))).to.deep.equal([
      { path: '/readyz', status: 503, level: 'warn' },
      { path: '/readyz', status: 503, level: 'warn' },
      { path: '/v1/broken', status: 500, level: 'error' },
    ]);
  });
});
