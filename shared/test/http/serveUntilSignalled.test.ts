import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { expect } from 'chai';

/** A process serving until signalled, whose `stop` waits on a store that never answers. */
const serving = (stopTimeoutMs: number): string => `
  import express from 'express';
  import { createLogger, serveUntilSignalled } from ${JSON.stringify(new URL('../../src/index.js', import.meta.url).href)};
  serveUntilSignalled({
    app: express(),
    port: 0,
    host: '127.0.0.1',
    service: 'ledger',
    logger: createLogger({ service: 'ledger' }),
    stop: () => new Promise(() => setInterval(() => undefined, 1_000)),
    stopTimeoutMs: ${stopTimeoutMs},
  });
`;

/** A process serving `GET /` until signalled, whose `stop` ends at once, with a long drain. */
const servingRequests = `
  import express from 'express';
  import { createLogger, serveUntilSignalled } from ${JSON.stringify(new URL('../../src/index.js', import.meta.url).href)};
  const app = express();
  app.get('/', (_request, response) => response.json({ ok: true }));
  serveUntilSignalled({
    app,
    port: 0,
    host: '127.0.0.1',
    service: 'ledger',
    logger: createLogger({ service: 'ledger' }),
    onListening: (url) => console.log('serving at ' + url),
    stop: async () => undefined,
    drainTimeoutMs: 30_000,
  });
`;

/**
 * A service app serving until signalled, with the event store's `headPosition` given as source,
 * and a `shutdownDelayMs` if any.
 */
const serviceAppServing = (headPosition: string, shutdownDelayMs?: number): string => `
  import { createLogger, createMetrics, createServiceApp, serveUntilSignalled } from ${JSON.stringify(new URL('../../src/index.js', import.meta.url).href)};
  const eventStore = { kind: 'sqlite', headPosition: ${headPosition} };
  const logger = createLogger({ service: 'ledger' });
  serveUntilSignalled({
    app: createServiceApp({ eventStore, guard: (_request, _response, next) => next(), routers: [], logger, metrics: createMetrics(), readyMaxLagSeconds: 10 }),
    port: 0,
    host: '127.0.0.1',
    service: 'ledger',
    logger,
    ${shutdownDelayMs === undefined ? '' : `shutdownDelayMs: ${shutdownDelayMs},`}
    onListening: (url) => console.log('serving at ' + url),
    stop: async () => undefined,
  });
`;

/** Its event store answers the readiness probe only once the process has been signalled: the probe is in flight when shutdown begins. */
const probedWhileSignalled = serviceAppServing(`() => {
  console.log('readiness asked');
  return new Promise((resolve) => process.once('SIGTERM', () => resolve(7n)));
}`);

/** Keeps taking connections `delayMs` after the signal. */
const servingWithDelay = (delayMs: number): string => serviceAppServing('async () => 7n', delayMs);

const exitOf = (child: ChildProcess, withinMs: number): Promise<number | null> =>
  new Promise((resolve) => {
    const hung = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, withinMs);
    child.on('exit', (code) => {
      clearTimeout(hung);
      resolve(code);
    });
  });

describe('serving until signalled', () => {
  it('once signalled, closes busy keep-alive connections with their next answer and exits well within its drain', async function () {
    // Twenty clients keep a loaded machine's two cores busy: the bound is a third of the drain.
    this.timeout(30_000);
    const child = spawn(process.execPath, ['--input-type=module', '-e', servingRequests], { stdio: ['ignore', 'pipe', 'pipe'] });
    /** Set once the process says it is stopping: requests sent from then on come after its shutdown began. */
    let signalled = false;
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const served = /serving at (\S+)/.exec(output);
        if (served !== null) resolve(served[1]!);
        if (output.includes('ledger stopping')) signalled = true;
      });
      child.on('exit', () => reject(new Error(`exited before serving: ${output}`)));
    });
    // Connections kept busy, as clients under steady load keep them.
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    /** What answered each request sent once the process was signalled: its `Connection` header, or `error`. */
    const answersAfterSignal: (string | undefined)[] = [];
    let busy = true;
    const keepBusy = async () => {
      while (busy) {
        const sentAfterSignal = signalled;
        const connection = await new Promise<string | undefined>((resolve) => {
          const sent = request(url, { agent }, (response) => {
            response.resume();
            response.on('end', () => resolve(response.headers.connection));
          });
          sent.on('error', () => resolve('error'));
          sent.end();
        });
        if (sentAfterSignal) answersAfterSignal.push(connection);
        if (connection === 'error') break;
      }
    };
    const load = Promise.all(Array.from({ length: 20 }, keepBusy));
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGTERM');
    const exitCode = await exitOf(child, 10_000);
    busy = false;
    await load;
    agent.destroy();
    expect(exitCode, 'exited well within its 30 s drain').to.equal(0);
    expect(answersAfterSignal.filter((connection) => connection === 'keep-alive'), 'answers that kept the connection open').to.deep.equal([]);
  });

  it('answers readiness with 503 shutting-down once signalled, though the probe came before, and exits once it has answered', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', probedWhileSignalled], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let output = '';
    const waiting: (() => void)[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const check of waiting) check();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const printed = (text: RegExp) =>
      new Promise<RegExpExecArray>((resolve) => {
        const check = () => {
          const found = text.exec(output);
          if (found !== null) resolve(found);
        };
        waiting.push(check);
        check();
      });
    try {
      const url = (await printed(/serving at (\S+)/))[1]!;
      const probe = fetch(`${url}/readyz`);
      await printed(/readiness asked/);
      child.kill('SIGTERM');
      const answer = await probe;
      expect(answer.status, output).to.equal(503);
      expect(answer.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(((await answer.json()) as { type: string }).type).to.equal('urn:folio:problem:shutting-down');
      expect(await exited, output).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('exits with an error once its stop has not ended in time, rather than hang', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', serving(200)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ledger listening')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exitCode = await new Promise<number | null>((resolve) => {
      const hung = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 5_000);
      child.on('exit', (code) => {
        clearTimeout(hung);
        resolve(code);
      });
    });
    expect(exitCode, output).to.equal(1);
    expect(output).to.match(/"level":"error".*"msg":"ledger did not stop within 200 ms: exiting without it"/);
  });

  describe('with a shutdown delay', () => {
    /** Starts the process, sends it SIGTERM once it serves, and returns its URL and exit. */
    const signalled = async (delayMs: number) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', servingWithDelay(delayMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const served = /serving at (\S+)/.exec(output);
          if (served !== null) resolve(served[1]!);
        });
        child.once('exit', () => reject(new Error(`exited before serving: ${output}`)));
      });
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { child, url, signalledAt, output: () => output, exited: exitOf(child, 20_000) };
    };

    it('keeps taking new connections, unready, until the delay has passed, then exits', async function () {
      this.timeout(30_000);
      const { url, signalledAt, output, exited } = await signalled(1_500);
      // Fresh connections, as a load balancer's probes and the traffic it still sends make.
      const readiness = await fetch(`${url}/readyz`, { headers: { connection: 'close' } });
      expect(readiness.status, output()).to.equal(503);
      expect(((await readiness.json()) as { type: string }).type).to.equal('urn:folio:problem:shutting-down');
      expect((await fetch(`${url}/healthz`, { headers: { connection: 'close' } })).status).to.equal(200);
      expect(await exited, output()).to.equal(0);
      expect(Date.now() - signalledAt, 'exited only once the delay had passed').to.be.at.least(1_500);
    });

    it('stops at once on a second signal', async function () {
      this.timeout(30_000);
      const { child, url, output, exited } = await signalled(60_000);
      expect((await fetch(`${url}/readyz`, { headers: { connection: 'close' } })).status).to.equal(503);
      child.kill('SIGTERM');
      expect(await exited, output()).to.equal(0);
      expect(output()).to.match(/"msg":"ledger stopping at once"/);
    });
  });
});
