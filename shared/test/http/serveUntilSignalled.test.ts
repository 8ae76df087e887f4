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
  it('once signalled, closes busy keep-alive connections with their next answer and exits well within its drain', async () => {
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
    const exitCode = await exitOf(child, 5_000);
    busy = false;
    await load;
    agent.destroy();
    expect(exitCode, 'exited well within its 30 s drain').to.equal(0);
    expect(answersAfterSignal.filter((connection) => connection === 'keep-alive'), 'answers that kept the connection open').to.deep.equal([]);
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
});
