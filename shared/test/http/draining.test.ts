import { expect } from 'chai';
import { Router } from 'express';
import { beginDraining, createLogger, createMetrics, createServiceApp, type EventStore } from '../../src/index.js';
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
});
