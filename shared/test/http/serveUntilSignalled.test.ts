import { spawn } from 'node:child_process';
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

describe('serving until signalled', () => {
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
