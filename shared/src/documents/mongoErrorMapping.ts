import {
  BSON,
  MongoError,
  MongoErrorLabel,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
} from 'mongodb';
import { redactCredentials } from '../config/redactCredentials.js';
import { FolioError } from '../errors/folioError.js';
import { InvalidArgumentError, StoreUnavailableError, TransactionLimitExceededError } from '../eventStore/errors.js';

/**
 * Server codes meaning "no usable primary right now, the answer was lost, or the attempt was cut
 * short and another may succeed": the driver's own retryable set (host unreachable, step-downs,
 * shutdowns, network timeouts), waits for a majority or a snapshot that ran out, and reads or
 * transactions the server ended under them.
 */
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  24, // LockTimeout
  43, // CursorNotFound (a cursor the server dropped, as on a failover)
  50, // MaxTimeMSExpired (a commit that waited longer than `maxCommitTimeMS` for a majority)
  64, // WriteConcernTimeout (formerly WriteConcernFailed)
  89, // NetworkTimeout
  91, // ShutdownInProgress
  112, // WriteConflict
  133, // FailedToSatisfyReadPreference
  134, // ReadConcernMajorityNotAvailableYet
  175, // QueryPlanKilled (a read whose collection was dropped or renamed under it)
  189, // PrimarySteppedDown
  216, // ElectionInProgress
  237, // CursorKilled
  239, // SnapshotTooOld (a snapshot older than the server keeps, 5 minutes by default)
  246, // SnapshotUnavailable
  251, // NoSuchTransaction (a transaction lost in a failover; see ABORTED_UNDER_IT for those aborted while they ran)
  262, // ExceededTimeLimit
  365, // TemporarilyUnavailable (cache pressure)
  9001, // SocketException
  10058, // LegacyNotPrimary
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/**
 * A transaction the server refuses for its size or duration: retried as it is, it fails again,
 * so the message says what to change. The server aborts a transaction open longer than
 * `transactionLifetimeLimitSeconds` (60 by default), and one whose changes outgrow its cache.
 */
const TRANSACTION_LIMIT_CODES = new Map([
  [257, 'TransactionTooLarge'],
  [290, 'TransactionExceededLifetimeLimitSeconds'],
  [388, 'TransactionTooLargeForCache'],
]);

const NO_SUCH_TRANSACTION = 251;
/**
 * What a replica set answers the next operation (or the commit) of a transaction it aborted while
 * it ran, past its lifetime limit or under cache pressure: "Transaction with { txnNumber: 5 } has
 * been aborted.", code 251 rather than 290. A rarer abort (a kill) may read the same: taken for a
 * refusal, it costs its writer smaller transactions for a while, no more.
 */
const ABORTED_UNDER_IT = /has been aborted/i;

/** Labels the server or driver puts on failures that may succeed when tried again. */
const RETRYABLE_LABELS = [
  MongoErrorLabel.TransientTransactionError,
  MongoErrorLabel.UnknownTransactionCommitResult,
  MongoErrorLabel.RetryableWriteError,
];

/**
 * A document MongoDB cannot store: nested deeper than 100 levels (Overflow), over 16 MiB
 * (BSONObjectTooLarge, or the codes a server raises for an update (17419) or an upsert (17420)
 * whose result would be too large). The port's own checks refuse these first.
 */
const UNSTORABLE_DOCUMENT_CODES = new Set([15, 10334, 17419, 17420]);
const ILLEGAL_OPERATION = 20;

const isUnavailable = (error: MongoError): boolean =>
  error instanceof MongoNetworkError ||
  error instanceof MongoServerSelectionError ||
  error instanceof MongoOperationTimeoutError ||
  RETRYABLE_LABELS.some((label) => error.hasErrorLabel(label)) ||
  (typeof error.code === 'number' && UNAVAILABLE_CODES.has(error.code));

/**
 * The one place where `mongodb` driver errors become the port's errors, where a caller can act
 * on them: retry later (`StoreUnavailableError`), write less per transaction
 * (`TransactionLimitExceededError`) or fix the input (`InvalidArgumentError`).
 * Anything else surfaces as the driver raised it.
 */
export const toPortError = (error: unknown): unknown => {
  // The driver's BSON serializer refuses some JSON before anything is sent: an object with a
  // `_bsontype` member (taken for a BSON value of another library version), for one.
  if (BSON.BSONError.isBSONError(error)) {
    return new InvalidArgumentError(`MongoDB cannot take the document as BSON: ${error.message}`, { cause: error });
  }
  if (error instanceof FolioError || !(error instanceof MongoError)) return error;
  // Messages callers may be answered with: a connection string the driver quoted loses its password.
  const said = redactCredentials(error.message);
  const serverCode = error instanceof MongoServerError ? error.code : undefined;
  const transactionLimit = typeof serverCode === 'number' ? TRANSACTION_LIMIT_CODES.get(serverCode) : undefined;
  if (transactionLimit !== undefined) {
    return new TransactionLimitExceededError(
      `MongoDB aborted a transaction too large or too long (${transactionLimit}): it fails again unless it ` +
        `writes less, or the server allows more: ${said}`,
      { cause: error },
    );
  }
  if (serverCode === NO_SUCH_TRANSACTION && ABORTED_UNDER_IT.test(error.message)) {
    return new TransactionLimitExceededError(
      `MongoDB aborted the transaction while it ran (most often for running longer than ` +
        `transactionLifetimeLimitSeconds, or for outgrowing its cache): it fails again unless it writes less, ` +
        `or the server allows more: ${said}`,
      { cause: error },
    );
  }
  if (error.hasErrorLabel(MongoErrorLabel.UnknownTransactionCommitResult)) {
    return new StoreUnavailableError(
      `MongoDB did not confirm the commit (no majority within the time allowed, or the answer was lost): ` +
        `the transaction may or may not have committed: ${said}`,
      { cause: error },
    );
  }
  if (isUnavailable(error)) {
    return new StoreUnavailableError(`MongoDB is unavailable: ${said}`, { cause: error });
  }
  const unstorable = typeof serverCode === 'number' && UNSTORABLE_DOCUMENT_CODES.has(serverCode);
  if (error instanceof MongoInvalidArgumentError || unstorable) {
    return new InvalidArgumentError(`MongoDB rejected the request: ${said}`, { cause: error });
  }
  if (serverCode === ILLEGAL_OPERATION && /replica set/i.test(error.message)) {
    return new Error(
      `the MongoDB document store needs a replica set (a single-node one will do) for transactions: ${said}`,
      { cause: error },
    );
  }
  return error;
};
