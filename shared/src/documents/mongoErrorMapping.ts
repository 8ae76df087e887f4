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
import { FolioError } from '../errors/folioError.js';
import { InvalidArgumentError, StoreUnavailableError } from '../eventStore/errors.js';

/**
 * Server codes meaning "no usable primary right now, or the answer was lost": the driver's own
 * retryable set (host unreachable, step-downs, shutdowns, network timeouts) plus write concern
 * and read concern waits that ran out.
 */
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  64, // WriteConcernFailed (a write concern timeout)
  89, // NetworkTimeout
  91, // ShutdownInProgress
  133, // FailedToSatisfyReadPreference
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10058, // LegacyNotPrimary
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Labels the server or driver puts on failures that may succeed when tried again. */
const RETRYABLE_LABELS = [
  MongoErrorLabel.TransientTransactionError,
  MongoErrorLabel.UnknownTransactionCommitResult,
  MongoErrorLabel.RetryableWriteError,
];

/**
 * A document over 16 MiB: BSONObjectTooLarge, or the codes a server raises for an update
 * (17419) or an upsert (17420) whose result would be too large.
 */
const DOCUMENT_TOO_LARGE_CODES = new Set([10334, 17419, 17420]);
const ILLEGAL_OPERATION = 20;

const isUnavailable = (error: MongoError): boolean =>
  error instanceof MongoNetworkError ||
  error instanceof MongoServerSelectionError ||
  error instanceof MongoOperationTimeoutError ||
  RETRYABLE_LABELS.some((label) => error.hasErrorLabel(label)) ||
  (typeof error.code === 'number' && UNAVAILABLE_CODES.has(error.code));

/**
 * The one place where `mongodb` driver errors become the port's errors, where a caller can act
 * on them: retry later (`StoreUnavailableError`) or fix the input (`InvalidArgumentError`).
 * Anything else surfaces as the driver raised it.
 */
export const toPortError = (error: unknown): unknown => {
  // The driver's BSON serializer refuses some JSON before anything is sent: an object with a
  // `_bsontype` member (taken for a BSON value of another library version), for one.
  if (BSON.BSONError.isBSONError(error)) {
    return new InvalidArgumentError(`MongoDB cannot take the document as BSON: ${error.message}`, { cause: error });
  }
  if (error instanceof FolioError || !(error instanceof MongoError)) return error;
  if (isUnavailable(error)) {
    return new StoreUnavailableError(`MongoDB is unavailable: ${error.message}`, { cause: error });
  }
  const serverCode = error instanceof MongoServerError ? error.code : undefined;
  if (error instanceof MongoInvalidArgumentError || (typeof serverCode === 'number' && DOCUMENT_TOO_LARGE_CODES.has(serverCode))) {
    return new InvalidArgumentError(`MongoDB rejected the request: ${error.message}`, { cause: error });
  }
  if (serverCode === ILLEGAL_OPERATION && /replica set/i.test(error.message)) {
    return new Error(
      `the MongoDB document store needs a replica set (a single-node one will do) for transactions: ${error.message}`,
      { cause: error },
    );
  }
  return error;
};
