import { expect } from 'chai';
import express from 'express';
import { commandMetrics, correlationId, createLogger, createMetrics, requestLog, CORRELATION_ID_HEADER } from '../../src/index.js';
import { capturedLog } from '../../src/testing/index.js';
import { listen } from '../http/httpTestServer.js';

describe('a command whose caller hung up before its answer', () => {
  it('is logged with its correlation id and counted once it has answered', async () => {
    const { lines: linesOf, destination } = capturedLog();
    const metrics = createMetrics();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let answered = false;
    const app = express();
    app.use(correlationId());
    app.use(requestLog(createLogger({ service: 'command-side', destination })));
    app.use(commandMetrics(metrics));
    app.post('/v1/transfers', async (_request, response) => {
      await held;
      response.status(503).json({});
      answered = true;
    });
    const server = await listen(app);
    try {
      const hangUp = new AbortController();
      const abandoned = fetch(`${server.url}/v1/transfers`, {
        method: 'POST',
        headers: { [CORRELATION_ID_HEADER]: 'support-ticket-43' },
        signal: hangUp.signal,
      }).catch(() => 'hung up');
      await new Promise((resolve) => setTimeout(resolve, 50));
      hangUp.abort();
      expect(await abandoned).to.equal('hung up');
      await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      while (!answered) await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      release();
      await server.close();
    }
    const lines = linesOf();
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({
      level: 'error',
      msg: 'request answered',
      method: 'POST',
      path: '/v1/transfers',
      status: 503,
      correlationId: 'support-ticket-43',
      callerHungUp: true,
    });
    expect(await metrics.registry.getSingleMetricAsString('folio_commands_total')).to.match(
      /^folio_commands_total\{route="\/v1\/transfers",status="503"\} 1$/m,
    );
  });
});
