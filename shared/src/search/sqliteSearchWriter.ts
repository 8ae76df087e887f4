/**
 * Writes of the embedded search index on a thread of their own: a process that projects and
 * searches keeps its main thread for folding events and answering queries while the index's
 * inserts and commits run on another core. Batches are written in the order they are sent; each
 * write resolves once its transaction has committed, so whatever the caller does next (commit a
 * checkpoint, answer a read) sees it.
 */
import { Worker } from 'node:worker_threads';
import { NotFoundError } from '../errors/commonErrors.js';
import { ValidationError } from '../errors/folioError.js';
import type { SearchDocument } from './searchIndex.js';

/**
 * A batch as it crosses to the thread, which validates and serialises it against the index's
 * schema (work the caller's thread, busy folding events, is spared), or the end of an index's
 * loading (see `finishLoading` of the port).
 */
type Request =
  | { kind: 'upsert'; index: string; documents: readonly SearchDocument[] }
  | { kind: 'finishLoading'; index: string };

/** A request as it crosses, numbered by the writer so that the reply finds its caller. */
export type WriteRequest = Request & { id: number };

export interface WriteReply {
  id: number;
  failure?:
    | { kind: 'missing' }
    | { kind: 'invalid'; message: string; issues: readonly { path: string; message: string }[] }
    | { kind: 'error'; message: string; code?: string };
}

/**
 * `thread` is the module the thread runs: the one beside this file, which writes into `path`
 * (another answers the same messages, to test how this side recovers from a thread that dies).
 */
export const createSearchWriter = (path: string, thread: URL = new URL('./sqliteSearchWriterThread.js', import.meta.url)) => {
  let worker: Worker | undefined;
  let exited: Promise<void> | undefined;
  let nextId = 1;
  /** The latest write, settled: the thread answers in order, so every earlier one has settled too. */
  let last: Promise<unknown> = Promise.resolve();
  const pending = new Map<number, { index: string; resolve: () => void; reject: (error: Error) => void }>();

  const settle = (reply: WriteReply): void => {
    const waiting = pending.get(reply.id);
    if (waiting === undefined) return;
    pending.delete(reply.id);
    // Idle, the thread must not keep the process alive; busy, it must.
    if (pending.size === 0) worker?.unref();
    const { failure } = reply;
    if (failure === undefined) waiting.resolve();
    else if (failure.kind === 'missing') waiting.reject(new NotFoundError('search index', waiting.index));
    else if (failure.kind === 'invalid') waiting.reject(new ValidationError(failure.message, failure.issues));
    else waiting.reject(Object.assign(new Error(`search index write failed: ${failure.message}`), failure.code === undefined ? {} : { code: failure.code }));
  };

  const start = (): Worker => {
    const started = new Worker(thread, { workerData: { path } });
    started.on('message', settle);
    // A thread that failed or ended takes its unanswered writes with it (their transactions rolled
    // back): they are refused, so the caller replays them, and the next write starts a new thread.
    const fail = (error: Error) => {
      if (worker === started) worker = undefined;
      for (const { reject } of pending.values()) reject(error);
      pending.clear();
    };
    started.on('error', fail);
    exited = new Promise((resolve) => {
      started.on('exit', (code) => {
        fail(new Error(`the search index writer thread exited with code ${code}`));
        resolve();
      });
    });
    return started;
  };

  const send = (request: Request): Promise<void> => {
    worker ??= start();
    const id = nextId++;
    const written = new Promise<void>((resolve, reject) => {
      // A value that cannot cross to the thread (a function, say) fails here, before anything is sent.
      worker!.postMessage({ ...request, id });
      pending.set(id, { index: request.index, resolve, reject });
      worker!.ref();
    });
    last = written.catch(() => undefined);
    return written;
  };

  return {
    /** Only what the schema reads of each document crosses: its id, version and fields. */
    upsert: (index: string, documents: readonly SearchDocument[]): Promise<void> =>
      send({
        kind: 'upsert',
        index,
        documents: documents.map((document) => ({ id: document?.id, version: document?.version, fields: document?.fields })),
      }),
    /** On the thread, as building the indexes of a large table takes a while. */
    finishLoading: (index: string): Promise<void> => send({ kind: 'finishLoading', index }),
    /** Resolves once every write sent so far has settled. */
    idle: (): Promise<unknown> => last,
    async close(): Promise<void> {
      if (worker === undefined) return;
      await last;
      // Held until the thread has closed its connection and exited.
      worker.ref();
      worker.postMessage('close');
      await exited;
      worker = undefined;
    },
  };
};

export type SearchWriter = ReturnType<typeof createSearchWriter>;
