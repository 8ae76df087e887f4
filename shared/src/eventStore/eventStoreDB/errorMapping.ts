import {
  CancelledError,
  DeadlineExceededError,
  InvalidArgumentError as ClientInvalidArgumentError,
  MaxAppendSizeExceededError,
  NoStreamError,
  NotLeaderError,
  StreamDeletedError as ClientStreamDeletedError,
  StreamNotFoundError as ClientStreamNotFoundError,
  TimeoutError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
  convertToCommandError,
  isCommandError,
} from '@eventstore/db-client';
import { redactCredentials } from '../../config/redactCredentials.js';
import { FolioError } from '../../errors/folioError.js';
import {
  InvalidArgumentError,
  StoreUnavailableError,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedRevisionError,
} from '../errors.js';
import type { ActualRevision, ExpectedRevision } from '../eventStore.js';

/** What the adapter knows about the call that failed; it wins over what the error carries. */
export interface ErrorContext {
  streamName?: string;
  expectedRevision?: ExpectedRevision;
}

/**
 * The client's error classes, matched by class first and by their `type` slug second: a second
 * copy of the client in the dependency tree would defeat `instanceof` but keep the slugs.
 */
const clientErrorTypes = {
  wrongExpectedVersion: [WrongExpectedVersionError, 'wrong-expected-version'],
  streamNotFound: [ClientStreamNotFoundError, 'stream-not-found'],
  noStream: [NoStreamError, 'no-stream'],
  streamDeleted: [ClientStreamDeletedError, 'stream-deleted'],
  unavailable: [UnavailableError, 'unavailable'],
  cancelled: [CancelledError, 'cancelled'],
  deadlineExceeded: [DeadlineExceededError, 'deadline-exceeded'],
  notLeader: [NotLeaderError, 'not-leader'],
  timeout: [TimeoutError, 'timeout'],
  invalidArgument: [ClientInvalidArgumentError, 'invalid-argument'],
  maxAppendSizeExceeded: [MaxAppendSizeExceededError, 'maximum-append-size-exceeded'],
  unknown: [UnknownError, 'unknown'],
} as const;

type ClientErrorKind = keyof typeof clientErrorTypes;

const is = (error: unknown, kind: ClientErrorKind): boolean => {
  const [errorClass, slug] = clientErrorTypes[kind];
  return error instanceof errorClass || (error instanceof Error && (error as { type?: unknown }).type === slug);
};

/**
 * Failures where the server may come back (or another node may answer): the caller may retry,
 * and a subscription resubscribes. `timeout` is the server's commit timeout, where the write may
 * or may not have happened.
 */
const transientKinds: readonly ClientErrorKind[] = ['unavailable', 'cancelled', 'deadlineExceeded', 'notLeader', 'timeout'];

/**
 * Cluster discovery (gossip seeds, `esdb+discover://`) that finds no node throws a plain `Error`
 * with no code or type to match; its message is all there is. No node answered: unavailable.
 */
const isFailedDiscovery = (error: unknown): boolean =>
  error instanceof Error && /^Failed to discover after \d+ attempts\.$/.test(error.message);

/**
 * A node that does not take a batched append (not ready, as during a leader election; too busy;
 * no leader known) answers it with a status the client does not recognize, so it arrives as
 * `UnknownError` "Could not recognize <reason>". Nothing was written; another try may be taken.
 */
const NOT_HANDLED_APPEND =
  /^Could not recognize (Server Is Not Ready|Server Is Busy|No leader info available in response|Unknown NotHandledReason \(\d+\))$/;

const isNotHandledAppend = (error: unknown): boolean =>
  is(error, 'unknown') && NOT_HANDLED_APPEND.test((error as Error).message);

/**
 * A call whose HTTP/2 stream the server reset (RST_STREAM) ends in gRPC INTERNAL "Received
 * RST_STREAM with code <n>", which the client has no class for, so it arrives as `UnknownError`.
 * Whatever the call was doing was cut off wherever it had got to.
 */
const RESET_STREAM = /^13 INTERNAL: Received RST_STREAM with code \d+/;

export const isResetStream = (raw: unknown): boolean => {
  const error = raw instanceof Error ? convertToCommandError(raw) : raw;
  return is(error, 'unknown') && RESET_STREAM.test((error as Error).message);
};

/**
 * A server with `MaxAppendEventSize` set refuses an append holding a larger event with a status
 * the client does not know, so it arrives as `UnknownError`, without the event or the limit.
 */
const isEventTooLarge = (error: unknown): boolean =>
  is(error, 'unknown') && (error as Error).message === 'Could not recognize MaximumAppendEventSizeExceeded';

const isTransientClientError = (error: unknown): boolean =>
  transientKinds.some((kind) => is(error, kind)) ||
  isFailedDiscovery(error) ||
  isNotHandledAppend(error) ||
  isResetStream(error);

/**
 * Whether an append failed before it was sent: the client turns every failure of the append itself
 * into one of its errors, and lets through as they came only those of what precedes it (its check
 * of the server's capabilities, a cluster discovery that found no node).
 */
export const failedBeforeSending = (error: unknown): boolean =>
  !(error instanceof FolioError) &&
  !(error instanceof Error && (isCommandError(error) || typeof (error as { type?: unknown }).type === 'string'));

/**
 * The client reports a missing stream as `'no_stream'` (or `-1` on its gRPC error path); a number
 * would come from a client version that drops bigints.
 */
export const toActualRevision = (value: unknown): ActualRevision => {
  if (typeof value === 'bigint') return value >= 0n ? value : 'no_stream';
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value >= 0 ? BigInt(value) : 'no_stream';
  return 'no_stream';
};

/** Used only when the adapter did not say what it expected; negative values are the server's legacy codes. */
const toExpectedRevision = (value: unknown): ExpectedRevision => {
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'bigint') {
    if (value >= 0n) return value;
    if (value === -1n) return 'no_stream';
    if (value === -4n) return 'stream_exists';
  }
  return 'any';
};

const streamNameOf = (error: unknown, context: ErrorContext): string => {
  if (context.streamName !== undefined) return context.streamName;
  const name = (error as { streamName?: unknown }).streamName;
  return typeof name === 'string' ? name : '';
};

/** The port errors whose constructors take no options still point back at the client error. */
export const withCause = <E extends Error>(mapped: E, cause: unknown): E => {
  Object.defineProperty(mapped, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  return mapped;
};

/** What the client said, for a message a caller may be answered with: any connection string in it without its password. */
const messageOf = (error: unknown): string =>
  redactCredentials(error instanceof Error && error.message.length > 0 ? error.message : String(error));

/**
 * The one place where errors of `@eventstore/db-client` become the port's errors. Port errors
 * pass through unchanged (some share a `type` slug with client errors), and so does anything the
 * port has no word for (access denied, unknown server failures), so it surfaces as it was.
 */
export const toPortError = (raw: unknown, context: ErrorContext = {}): unknown => {
  if (raw instanceof FolioError) return raw;
  // Some client paths (the server-capabilities probe before an append) let raw gRPC errors through.
  const error = raw instanceof Error ? convertToCommandError(raw) : raw;

  if (is(error, 'wrongExpectedVersion')) {
    const clientError = error as { expectedVersion?: unknown; actualVersion?: unknown };
    return withCause(
      new WrongExpectedRevisionError(
        streamNameOf(error, context),
        context.expectedRevision ?? toExpectedRevision(clientError.expectedVersion),
        toActualRevision(clientError.actualVersion),
      ),
      error,
    );
  }
  if (is(error, 'streamNotFound') || is(error, 'noStream')) {
    return withCause(new StreamNotFoundError(streamNameOf(error, context)), error);
  }
  if (is(error, 'streamDeleted')) {
    return withCause(new StreamDeletedError(streamNameOf(error, context)), error);
  }
  if (isTransientClientError(error)) {
    return new StoreUnavailableError(`EventStoreDB is unavailable: ${messageOf(error)}`, { cause: error });
  }
  if (is(error, 'maxAppendSizeExceeded')) {
    // The client's error carries no message; the limit is the server's MaxAppendSize setting.
    const limit = (error as { maxAppendSize?: unknown }).maxAppendSize;
    const stream = streamNameOf(error, context);
    return new InvalidArgumentError(
      `the append${stream === '' ? '' : ` to ${stream}`} is larger than EventStoreDB's maximum append size` +
        `${typeof limit === 'number' ? ` of ${limit} bytes` : ''} (its MaxAppendSize setting): nothing was written`,
      { cause: error },
    );
  }
  if (isEventTooLarge(error)) {
    const stream = streamNameOf(error, context);
    return new InvalidArgumentError(
      `an event of the append${stream === '' ? '' : ` to ${stream}`} is larger than EventStoreDB's maximum event size` +
        ' (its MaxAppendEventSize setting): nothing was written',
      { cause: error },
    );
  }
  if (is(error, 'invalidArgument')) {
    return new InvalidArgumentError(`EventStoreDB rejected the request: ${messageOf(error)}`, { cause: error });
  }
  return error;
};
