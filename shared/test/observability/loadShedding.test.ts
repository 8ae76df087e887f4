import { expect } from 'chai';
import express from 'express';
import {
  createLogger,
  createMetrics,
  loadShedding,
  problemDetailsHandler,
  requestLog,
  StoreUnavailableError,
  type LagMonitor,
} from '../../src/index.js';
import { capturedLog } from '../../src/testing/index.js';
import { listen } from '../http/httpTestServer.js';

const lagOf = (seconds: number): LagMonitor =>
  ({ worstSeconds: () => seconds }) as Partial<LagMonitor> as LagMonitor;

const appWith = (options: { maxInFlight: number; lag?: LagMonitor }) => {
  const metrics = createMetrics();
  const handled: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const slowArrived = new Promise<void>((resolve) => (arrived = resolve));
  const log = capturedLog();
  const app = express();
  app.use(requestLog(createLogger({ service: 'command-side', destination: log.destination })));
  app.use(loadShedding({ metrics, shedAtLagSeconds: 30, ...options }));
  app.post('/v1/transfers/:name', async (request, response) => {
    if (request.params['name'] === 'slow') {
      arrived();
      await held;
    }
    if (request.params['name'] === 'unreachable') throw new StoreUnavailableError('the event store did not answer');
    handled.push(request.params['name']!);
    response.status(201).json({});
  });
  app.get('/v1/transactions', (_request, response) => void response.json({ items: [] }));
  app.use(problemDetailsHandler());
  return { app, metrics, handled, release, slowArrived, logLines: log.lines };
};

describe('load shedding on the write API', () => {
  it('refuses a command beyond the in-flight limit with 503 and Retry-After, and takes commands again once one finishes', async () => {
    const { app, metrics, handled, release } = appWith({ maxInFlight: 1 });
    const server = await listen(app);
    try {
      const slow = fetch(`${server.url}/v1/transfers/slow`, { method: 'POST' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const refused = await fetch(`${server.url}/v1/transfers/second`, { method: 'POST' });
      expect(refused.status).to.equal(503);
      expect(refused.headers.get('retry-after')).to.equal('1');
      expect(refused.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(await refused.json()).to.include({ type: 'urn:folio:problem:overloaded', reason: 'commands-in-flight' });
      expect((await fetch(`${server.url}/v1/transactions`)).status, 'reads are not shed').to.equal(200);

      release();
      expect((await slow).status).to.equal(201);
      expect((await fetch(`${server.url}/v1/transfers/third`, { method: 'POST' })).status).to.equal(201);
      expect(handled, 'the refused command never reached its handler').to.deep.equal(['slow', 'third']);
      expect(await metrics.registry.getSingleMetricAsString('folio_load_shed_total')).to.match(
        /folio_load_shed_total\{reason="commands-in-flight"\} 1/,
      );
    } finally {
      release();
      await server.close();
    }
  });

  it('holds a command\'s place until it has answered, though its caller hung up, then takes commands again', async () => {
    const { app, handled, release } = appWith({ maxInFlight: 1 });
    const server = await listen(app);
    try {
      const hangUp = new AbortController();
      const abandoned = fetch(`${server.url}/v1/transfers/slow`, { method: 'POST', signal: hangUp.signal }).catch(() => 'hung up');
      await new Promise((resolve) => setTimeout(resolve, 50));
      hangUp.abort();
      expect(await abandoned).to.equal('hung up');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const refused = await fetch(`${server.url}/v1/transfers/second`, { method: 'POST' });
      expect(refused.status, 'the abandoned command still runs: it holds the only place').to.equal(503);

      release();
      while (!handled.includes('slow')) await new Promise((resolve) => setTimeout(resolve, 10));
      expect((await fetch(`${server.url}/v1/transfers/third`, { method: 'POST' })).status).to.equal(201);
      expect(handled).to.deep.equal(['slow', 'third']);
    } finally {
      release();
      await server.close();
    }
  });

  it('logs a shed command at warn, as the process protecting itself, and a command that failed at error', async () => {
    const { app, release, slowArrived, logLines } = appWith({ maxInFlight: 1 });
    const server = await listen(app);
    try {
      expect((await fetch(`${server.url}/v1/transfers/unreachable`, { method: 'POST' })).status).to.equal(503);
      const slow = fetch(`${server.url}/v1/transfers/slow`, { method: 'POST' });
      await slowArrived;
      expect((await fetch(`${server.url}/v1/transfers/second`, { method: 'POST' })).status).to.equal(503);
      release();
      expect((await slow).status).to.equal(201);
    } finally {
      release();
      await server.close();
    }
    const answered = logLines().filter(({ msg }) => msg === 'request answered');
    expect(answered.map(({ path, status, level }) => ({ path, status, level }))).to.have.deep.members([
      { path: '/v1/transfers/unreachable', status: 503, level: 'error' },
      { path: '/v1/transfers/second', status: 503, level: 'warn' },
    ]);
  });

  it('refuses commands while the projections lag beyond the limit', async () => {
    const { app, handled } = appWith({ maxInFlight: 10, lag: lagOf(45) });
    const server = await listen(app);
    try {
      const refused = await fetch(`${server.url}/v1/transfers/first`, { method: 'POST' });
      expect(refused.status).to.equal(503);
      const problem = (await refused.json()) as { reason: string; detail: string };
      expect(problem.reason).to.equal('projections-lagging');
      expect(problem.detail).to.match(/45 s behind/);
      expect(handled).to.deep.equal([]);
    } finally {
      await server.close();
    }
  });
});
