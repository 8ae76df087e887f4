/**
 * The writer thread of the embedded event store: it owns the connection that writes, so inserts,
 * commits and their fsyncs run beside the event loop instead of blocking it. Requests are handled
 * one at a time, in the order they were sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { prepareDatabase } from './schema.js';
import { createSqliteWriter } from './sqliteWriter.js';
import { toWireError, toWireOutcome, type WriterReply, type WriterRequest } from './writerProtocol.js';

const port = parentPort!;
const { path } = workerData as { path: string };
const db = new Database(path);
prepareDatabase(db, false);
const writer = createSqliteWriter(db);

const handle = (request: WriterRequest): WriterReply => {
  try {
    switch (request.kind) {
      case 'append':
        return { id: request.id, kind: 'appended', outcomes: writer.commit(request.requests, request.nowMs).map(toWireOutcome) };
      case 'delete':
        writer.deleteStream(request.streamName, request.expected);
        return { id: request.id, kind: 'done' };
      case 'close':
        db.close();
        return { id: request.id, kind: 'done' };
    }
  } catch (error) {
    return { id: request.id, kind: 'failed', error: toWireError(error) };
  }
};

port.on('message', (request: WriterRequest) => {
  port.postMessage(handle(request));
  if (request.kind === 'close') port.close();
});
