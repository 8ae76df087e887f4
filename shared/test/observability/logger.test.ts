import { expect } from 'chai';
import express from 'express';
import { correlationId, createLogger, requestLog, CORRELATION_ID_HEADER } from '../../src/index.js';
import { capturedLog } from '../../src/testing/index.js';
import { listen } from '../http/httpTestServer.js';

describe('structured logs', () => {
  it('writes one JSON line per entry with the service, level and message, and redacts credentials', () => {
    const { lines: linesOf, destination } = capturedLog();
    const logger = createLogger({ service: 'command-side', destination });
    logger.info(
      { authorization: 'Bearer key_123.secret', headers: { authorization: 'Bearer other', accept: 'json' }, provider: { secret: 'whsec_1' } },
      'configured',
    );
    const lines = linesOf();
    expect(lines).to.have.length(1);
    const [line] = lines;
    expect(line).to.include({ service: 'command-side', level: 'info', msg: 'configured', authorization: '[redacted]' });
    expect(line!['headers']).to.deep.equal({ authorization: '[redacted]', accept: 'json' });
    expect(line!['provider']).to.deep.equal({ secret: '[redacted]' });
    expect(JSON.stringify(line)).to.not.match(/key_123|whsec_1|other/);
  });

  it('keeps the credentials of a connection string out of a logged error, its causes and its stack', () => {
    const { lines: linesOf, destination } = capturedLog();
    const logger = createLogger({ service: 'projections', destination });
    const driver = new Error('failed to connect to mongodb://folio:s3cret-pass@mongo.internal:27017/?replicaSet=rs0');
    logger.error({ err: new Error('store unavailable', { cause: driver }) }, 'projector failed');
    logger.error(driver, 'as the entry itself');
    const lines = linesOf();
    expect(lines).to.have.length(2);
    expect(JSON.stringify(lines)).to.not.contain('s3cret-pass');
    expect(JSON.stringify(lines)).to.contain('mongodb://folio:[redacted]@mongo.internal');
  });

  it('logs a failed request with its correlation id, and a successful one only at debug level', async () => {
    const { lines: linesOf, destination } = capturedLog();
    const app = express();
    app.use(correlationId());
    app.use(requestLog(createLogger({ service: 'query-side', destination })));
    app.get('/ok', (_request, response) => void response.json({}));
    app.get('/missing', (_request, response) => void response.status(404).json({}));
    const server = await listen(app);
    try {
      await (await fetch(`${server.url}/ok`)).json();
      await (await fetch(`${server.url}/missing`, { headers: { [CORRELATION_ID_HEADER]: 'support-ticket-42' } })).json();
    } finally {
      await server.close();
    }
    const lines = linesOf();
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ msg: 'request answered', method: 'GET', path: '/missing', status: 404, correlationId: 'support-ticket-42' });
    expect(lines[0]!['durationMs']).to.be.a('number');
  });
});
