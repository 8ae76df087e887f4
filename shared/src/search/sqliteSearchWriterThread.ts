/**
 * The thread that writes documents into the embedded search index (see `sqliteSearchWriter.ts`):
 * its own connection to the file, one batch at a time, in the order the batches were sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ValidationError } from '../errors/folioError.js';
import { prepareDocuments } from './searchDocuments.js';
import { createSearchTables, openSearchDatabase } from './sqliteSearchTables.js';
import type { WriteReply, WriteRequest } from './sqliteSearchWriter.js';

const port = parentPort!;
const db = openSearchDatabase((workerData as { path: string }).path);
const tables = createSearchTables(db);

port.on('message', (request: WriteRequest | 'close') => {
  if (request === 'close') {
    db.close();
    port.close();
    return;
  }
  let reply: WriteReply;
  try {
    const target = tables.find(request.index);
    if (target === undefined) {
      reply = { id: request.id, failure: { kind: 'missing' } };
    } else {
      if (request.kind === 'finishLoading') {
        tables.finishLoading(target);
      } else {
        tables.upsert(target, prepareDocuments(target.schema, request.documents));
      }
      reply = { id: request.id };
    }
  } catch (error) {
    if (error instanceof ValidationError) {
      port.postMessage({ id: request.id, failure: { kind: 'invalid', message: error.message, issues: error.issues } } satisfies WriteReply);
      return;
    }
    const { message, code } = error as { message?: unknown; code?: unknown };
    reply = {
      id: request.id,
      failure: { kind: 'error', message: String(message ?? error), ...(typeof code === 'string' ? { code } : {}) },
    };
  }
  port.postMessage(reply);
});
