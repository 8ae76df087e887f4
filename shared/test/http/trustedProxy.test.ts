import { expect } from 'chai';
import { Router, type RequestHandler } from 'express';
import { createLogger, createMetrics, createServiceApp, type EventStore } from '../../src/index.js';
import { listen } from './httpTestServer.js';

const eventStore = { kind: 'sqlite', headPosition: () => Promise.resolve(7n) } as Partial<EventStore> as EventStore;

/** The client address the security gate would key its buckets by, for a request forwarded as from 203.0.113.7. */
const clientSeenWith = async (trustProxy: boolean | number | string | undefined): Promise<string | undefined> => {
  let seen: string | undefined;
  const guard: RequestHandler = (request, _response, next) => {
    seen = request.ip;
    next();
  };
  const app = createServiceApp({
    eventStore,
    guard,
    routers: [Router().get('/v1/currencies', (_request, response) => void response.json({ items: [] }))],
    logger: createLogger({ service: 'query-side', level: 'silent' }),
    metrics: createMetrics(),
    readyMaxLagSeconds: 10,
    ...(trustProxy === undefined ? {} : { trustProxy }),
  });
  const server = await listen(app);
  try {
    expect((await fetch(`${server.url}/v1/currencies`, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status).to.equal(200);
  } finally {
    await server.close();
  }
  return seen;
};

/**
 * Behind a reverse proxy every request comes from the proxy: unless it is trusted, the buckets by
 * address are one bucket for every client, and a few failed authentications lock them all out.
 */
describe('a service app behind a reverse proxy', () => {
  it('takes the client from X-Forwarded-For when the proxy it came through is trusted', async () => {
    expect(await clientSeenWith('loopback')).to.equal('203.0.113.7');
    expect(await clientSeenWith(1)).to.equal('203.0.113.7');
  });

  it('ignores X-Forwarded-For from a peer it does not trust, so no client names its own address', async () => {
    expect(await clientSeenWith(false)).to.match(/127\.0\.0\.1$/);
    expect(await clientSeenWith('10.0.0.0/8')).to.match(/127\.0\.0\.1$/);
  });
});
