/**
 * The baseline of `npm run bench:api`: a bare express app whose `POST /echo` parses the JSON body
 * and sends it back. It runs in its own process, started like the Folio server (`PORT`, `HOST`),
 * and prints one JSON line with the port once it listens.
 */
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
// The same body limit as the batch endpoint, so a batch-sized body would be accepted too.
app.use(express.json({ limit: 1024 * 1024 }));
app.post('/echo', (request, response) => {
  response.json(request.body);
});

const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : undefined;
  console.log(JSON.stringify({ msg: 'echo listening', port }));
});

const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
