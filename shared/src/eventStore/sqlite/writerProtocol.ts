/**
 * The messages between the embedded event store and its writer thread. An error crosses a thread
 * as plain data, so the store's own errors are sent as what they are and rebuilt on this side
 * with their class; any other failure (SQLite's) keeps its name, message and code.
 */
import { StreamDeletedError, StreamNotFoundError, WrongExpectedRevisionError } from '../errors.js';
import type { ActualRevision, AppendResult, ExpectedRevision } from '../eventStore.js';
import type { BatchOutcome } from './groupCommit.js';
import type { AppendRequest } from './sqliteWriter.js';

export type WriterRequest =
  | { kind: 'append'; id: number; requests: readonly AppendRequest[]; nowMs: number }
  | { kind: 'delete'; id: number; streamName: string; expected: ExpectedRevision }
  | { kind: 'close'; id: number };

export type WireError =
  | { kind: 'wrong-expected-revision'; streamName: string; expected: ExpectedRevision; actual: ActualRevision }
  | { kind: 'stream-deleted'; streamName: string }
  | { kind: 'stream-not-found'; streamName: string }
  | { kind: 'failure'; name: string; message: string; code: string | undefined };

export type WireOutcome = { ok: true; value: AppendResult } | { ok: false; error: WireError };

export type WriterReply =
  | { id: number; kind: 'appended'; outcomes: WireOutcome[] }
  | { id: number; kind: 'done' }
  | { id: number; kind: 'failed'; error: WireError };

export const toWireError = (error: unknown): WireError => {
  if (error instanceof WrongExpectedRevisionError) {
    const { streamName, expectedRevision: expected, actualRevision: actual } = error;
    return { kind: 'wrong-expected-revision', streamName, expected, actual };
  }
  if (error instanceof StreamDeletedError) return { kind: 'stream-deleted', streamName: error.streamName };
  if (error instanceof StreamNotFoundError) return { kind: 'stream-not-found', streamName: error.streamName };
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return { kind: 'failure', name: error.name, message: error.message, code: typeof code === 'string' ? code : undefined };
  }
  return { kind: 'failure', name: 'Error', message: String(error), code: undefined };
};

export const fromWireError = (error: WireError): Error => {
  switch (error.kind) {
    case 'wrong-expected-revision':
      return new WrongExpectedRevisionError(error.streamName, error.expected, error.actual);
    case 'stream-deleted':
      return new StreamDeletedError(error.streamName);
    case 'stream-not-found':
      return new StreamNotFoundError(error.streamName);
    case 'failure': {
      const failure = Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code });
      failure.name = error.name;
      return failure;
    }
  }
};

export const toWireOutcome = (outcome: BatchOutcome<AppendResult>): WireOutcome =>
  outcome.ok ? outcome : { ok: false, error: toWireError(outcome.error) };

export const fromWireOutcome = (outcome: WireOutcome): BatchOutcome<AppendResult> =>
  outcome.ok ? outcome : { ok: false, error: fromWireError(outcome.error) };
