import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { createLogger, createMetrics, createServiceApp, StoreUnavailableError, type DocumentStore } from '@folio/shared';
import { composeProjections } from '../src/projectionsComposition.js';
import { openEmbeddedStores, writeLedgerHistory } from './fixtures/ledgerFixture.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Short, so that the test outlasts it quickly; the retries in between wait 100 ms, then 200. */
const GRACE_SECONDS = 0.3;

interface Readiness {
  status: string;
  checks: {
    eventStore: { status: string };
    projections: {
      maxFailingSeconds: number;
      projections: { name: string; status: string; lagSeconds: number; failures?: number; failingSince?: string; lastError?: string | null }[];
    };
  };
}

describe('the projections process: readiness', () => {
  let stores: ReturnType<typeof openEmbeddedStores>;
  /** Whether the document store answers the projectors. */
  let reachable: boolean;
  let server: Server | undefined;
  let stopProjections: (() => Promise<void>) | undefined;

  beforeEach(() => {
    stores = openEmbeddedStores('folio-readiness-');
    reachable = true;
  });

  afterEach(async () => {
    reachable = true;
    await stopProjections?.();
    stopProjections = undefined;
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
    await stores.close();
  });

  /** The document store as the projectors see it: every call fails while it is unreachable. */
  const flakyDocuments = (): DocumentStore =>
    new Proxy(stores.documents, {
      get(target, property) {
        const member = Reflect.get(target, property, target) as unknown;
        if (typeof member !== 'function' || property === 'close') return member;
        return (...args: unknown[]) => {
          if (!reachable) return Promise.reject(new StoreUnavailableError('test: the document store is unreachable'));
          return (member as (...args: unknown[]) => unknown).apply(target, args);
        };
      },
    });

  /** The projections as their process composes them, behind the service app's `/readyz`. */
  const startProcess = async () => {
    const logger = createLogger({ service: 'projections', level: 'silent' });
    const { projections, lag } = composeProjections({
      eventStore: stores.log,
      documents: flakyDocuments(),
      searchIndex: stores.search,
      logger,
      metrics: createMetrics(),
    });
    stopProjections = () => projections.stop();
    const app = createServiceApp({
      eventStore: stores.log,
      guard: (_request, _response, next) => next(),
      routers: [],
      logger,
      metrics: createMetrics(),
      lag,
      readyMaxLagSeconds: 60,
      readyMaxFailingSeconds: GRACE_SECONDS,
    });
    const listening = app.listen(0, '127.0.0.1');
    server = listening;
    await new Promise((resolve) => listening.once('listening', resolve));
    const baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    const readyz = async () => {
      const response = await fetch(`${baseUrl}/readyz`);
      return { code: response.status, body: (await response.json()) as Readiness };
    };
    return { projections, readyz };
  };

  const expectFailing = ({ code, body }: { code: number; body: Readiness }) => {
    expect(code).to.equal(503);
    expect(body.status).to.equal('unready');
    expect(body.checks.eventStore.status).to.equal('ok');
    expect(body.checks.projections.maxFailingSeconds).to.equal(GRACE_SECONDS);
    for (const projection of body.checks.projections.projections) {
      expect(projection.status, projection.name).to.equal('failing');
      expect(projection.lagSeconds, `${projection.name}: its lag alone would be ready`).to.be.below(60);
      expect(projection.failures, projection.name).to.be.at.least(1);
      expect(projection.lastError, projection.name).to.match(/document store is unreachable/);
      expect(Date.parse(projection.failingSince!), projection.name).to.be.below(Date.now() - GRACE_SECONDS * 1000);
    }
  };

  it('is unready, `failing`, once the document store has refused every call since start for longer than the grace, and ready again once it answers', async () => {
    await writeLedgerHistory(stores.log, { accounts: 3, transfers: 5 });
    reachable = false;
    const { projections, readyz } = await startProcess();
    const caughtUp = projections.start();

    const early = await readyz();
    expect(early.code, 'within the grace').to.equal(200);
    await sleep(GRACE_SECONDS * 1000 + 200);
    expectFailing(await readyz());

    reachable = true;
    await caughtUp;
    const recovered = await readyz();
    expect(recovered.code).to.equal(200);
    for (const projection of recovered.body.checks.projections.projections) {
      expect(projection, projection.name).to.include({ status: 'ok' }).and.not.have.property('failures');
    }
  });

  it('is unready, `failing`, once the document store has refused the projectors longer than the grace, though the lag stays within its threshold', async () => {
    const { projections, readyz } = await startProcess();
    await projections.start();
    expect((await readyz()).code).to.equal(200);

    reachable = false;
    await writeLedgerHistory(stores.log, { accounts: 2, transfers: 3, firstAccountId: 3_000_000, seed: 3 });
    await sleep(GRACE_SECONDS * 1000 + 200);
    expectFailing(await readyz());

    reachable = true;
    const head = (await stores.log.headPosition())!;
    expect(await projections.waitFor(head, 5_000)).to.equal(true);
    expect((await readyz()).code, 'ready again by itself').to.equal(200);
  });
});
