import { Worker } from 'node:worker_threads';
import type { AppendResult, ExpectedRevision } from '../eventStore.js';
import type { BatchOutcome } from './groupCommit.js';
import type { AppendRequest } from './sqliteWriter.js';
import { fromWireError, fromWireOutcome, type WriterReply, type WriterRequest } from './writerProtocol.js';

export interface WriterClient {
  /** Commits the requests in one transaction on the writer thread; see `SqliteWriter.commit`. */
  commit(requests: readonly AppendRequest[], nowMs: number): Promise<BatchOutcome<AppendResult>[]>;
  deleteStream(streamName: string, expected: ExpectedRevision): Promise<void>;
  /** Lets the requests already sent finish, then closes the writer's connection and ends its thread. */
  close(): Promise<void>;
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** Starts a writer thread on the database at `path`. */
export const startWriterThread = (path: string): WriterClient => {
  const worker = new Worker(new URL('./sqliteWriterThread.js', import.meta.url), { workerData: { path } });
  // The thread keeps the process alive only while an answer is awaited.
  worker.unref();
  const waiting = new Map<number, { resolve: (reply: WriterReply) => void; reject: (error: unknown) => void }>();
  let nextId = 0;
  let broken: Error | undefined;
  let closing = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const fail = (error: Error): void => {
    broken ??= error;
    for (const waiter of waiting.values()) waiter.reject(error);
    waiting.clear();
  };
  worker.on('message', (reply: WriterReply) => {
    const waiter = waiting.get(reply.id)!;
    waiting.delete(reply.id);
    if (waiting.size === 0 && !closing) worker.unref();
    waiter.resolve(reply);
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the event store's writer thread has stopped (exit code ${code})`)));

  const call = async (request: WithoutId<WriterRequest>): Promise<WriterReply> => {
    const reply = await new Promise<WriterReply>((resolve, reject) => {
      if (broken !== undefined) return reject(broken);
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      if (waiting.size === 1) worker.ref();
      worker.postMessage({ ...request, id });
    });
    if (reply.kind === 'failed') throw fromWireError(reply.error);
    return reply;
  };

  return {
    async commit(requests, nowMs) {
      const reply = await call({ kind: 'append', requests, nowMs });
      return reply.kind === 'appended' ? reply.outcomes.map(fromWireOutcome) : [];
    },
    async deleteStream(streamName, expected) {
      await call({ kind: 'delete', streamName, expected });
    },
    async close() {
      // Held until the thread has ended, so the process waits for it.
      closing = true;
      worker.ref();
      if (broken === undefined) await call({ kind: 'close' });
      await exited;
    },
  };
};
