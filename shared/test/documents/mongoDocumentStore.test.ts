import {
  BSON,
  MongoError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoWriteConcernError,
} from 'mongodb';
import { expect } from 'chai';
import { InvalidArgumentError, StoreUnavailableError, TransactionLimitExceededError } from '../../src/eventStore/errors.js';
import { createMongoDocumentStore } from '../../src/documents/mongoDocumentStore.js';
import { toPortError } from '../../src/documents/mongoErrorMapping.js';
import { toProblem } from '../../src/http/problemDetails.js';
import { rejectionOf } from '../../src/testing/rejectionOf.js';


/** What the driver's BSON serializer throws for `document`, before anything reaches a server. */
const bsonRefusal = (document: Record<string, unknown>): unknown => {
  try {
    BSON.serialize(document);
  } catch (error) {
    return error;
  }
  throw new Error('expected BSON to refuse the document');
};

const serverError = (fields: Record<string, unknown>): MongoServerError =>
  new MongoServerError({ ok: 0, errmsg: 'server said no', ...fields });

describe('MongoDB document store error mapping', () => {
  it('maps network failures, lost primaries and retryable labels to StoreUnavailableError, keeping the cause', () => {
    const unavailable: [MongoError, string][] = [
      [new MongoNetworkError('connection reset'), 'a network error'],
      [new MongoNetworkTimeoutError('timed out'), 'a network timeout'],
      [serverError({ code: 10107, codeName: 'NotWritablePrimary' }), 'not writable primary'],
      [serverError({ code: 189, codeName: 'PrimarySteppedDown' }), 'a step-down'],
      [serverError({ code: 91, codeName: 'ShutdownInProgress' }), 'a shutdown'],
      [serverError({ code: 64, codeName: 'WriteConcernFailed' }), 'a write concern timeout'],
      [serverError({ code: 112, errorLabels: ['TransientTransactionError'] }), 'a transient transaction error'],
      [serverError({ code: 50, errorLabels: ['UnknownTransactionCommitResult'] }), 'an unknown commit result'],
    ];
    for (const [error, what] of unavailable) {
      const mapped = toPortError(error);
      expect(mapped, what).to.be.instanceOf(StoreUnavailableError);
      expect((mapped as Error).cause, `${what}: cause`).to.equal(error);
    }
  });

  it('answers an unavailable server without the password of a connection string the driver quoted', () => {
    const mapped = toPortError(new MongoNetworkError('connection to mongodb://folio:s3cret@db:27017/?replicaSet=rs0 closed'));
    expect(mapped).to.be.instanceOf(StoreUnavailableError);
    const { detail } = toProblem(mapped, '/v1/accounts');
    expect(detail).to.contain('mongodb://folio:[redacted]@db:27017').and.not.contain('s3cret');
  });

  it('maps reads and transactions the server cut short, which another attempt may complete, to StoreUnavailableError', () => {
    const transient: [MongoError, string][] = [
      [serverError({ code: 24, codeName: 'LockTimeout' }), 'a lock wait that ran out'],
      [serverError({ code: 43, codeName: 'CursorNotFound' }), 'a cursor the server dropped'],
      [serverError({ code: 112, codeName: 'WriteConflict' }), 'a write conflict'],
      [serverError({ code: 175, codeName: 'QueryPlanKilled' }), 'a read whose collection was renamed under it'],
      [serverError({ code: 216, codeName: 'ElectionInProgress' }), 'an election'],
      [serverError({ code: 237, codeName: 'CursorKilled' }), 'a killed cursor'],
      [serverError({ code: 239, codeName: 'SnapshotTooOld' }), 'a snapshot older than the server keeps'],
      [serverError({ code: 246, codeName: 'SnapshotUnavailable' }), 'a snapshot not available yet'],
      [serverError({ code: 251, codeName: 'NoSuchTransaction' }), 'a transaction the server aborted'],
      [serverError({ code: 365, codeName: 'TemporarilyUnavailable' }), 'cache pressure'],
      [serverError({ code: 50, codeName: 'MaxTimeMSExpired' }), 'a time limit'],
    ];
    for (const [error, what] of transient) {
      const mapped = toPortError(error);
      expect(mapped, what).to.be.instanceOf(StoreUnavailableError);
      expect(mapped, `${what}: not a refusal for size`).not.to.be.instanceOf(TransactionLimitExceededError);
      expect((mapped as Error).cause, `${what}: cause`).to.equal(error);
    }
  });

  it('says a commit the majority did not confirm in time may or may not have committed', () => {
    // As the driver raises them: the wait reported in writeConcernError, labelled by the driver.
    for (const writeConcernError of [
      { code: 50, codeName: 'MaxTimeMSExpired', errmsg: 'operation exceeded time limit' },
      { code: 64, codeName: 'WriteConcernTimeout', errmsg: 'waiting for replication timed out', errInfo: { wtimeout: true } },
    ]) {
      const error = new MongoWriteConcernError({ ok: 1, writeConcernError });
      error.addErrorLabel('UnknownTransactionCommitResult');
      const mapped = toPortError(error);
      expect(mapped, writeConcernError.codeName).to.be.instanceOf(StoreUnavailableError);
      expect((mapped as Error).message).to.match(/may or may not have committed/);
      expect((mapped as Error).cause).to.equal(error);
    }
  });

  it('says what to change when a transaction was too large or too long for the server', () => {
    for (const [code, codeName] of [
      [257, 'TransactionTooLarge'],
      [290, 'TransactionExceededLifetimeLimitSeconds'],
      [388, 'TransactionTooLargeForCache'],
    ] as const) {
      const error = serverError({ code, codeName, errorLabels: ['TransientTransactionError'] });
      const mapped = toPortError(error);
      expect(mapped, codeName).to.be.instanceOf(TransactionLimitExceededError).and.instanceOf(StoreUnavailableError);
      expect((mapped as Error).message, codeName).to.contain(codeName).and.match(/writes less/);
      expect((mapped as Error).cause).to.equal(error);
    }
  });

  it('takes a transaction the server says it aborted while it ran for one refused for its size or duration', () => {
    // As a replica set answers the operation after it aborted the transaction past its lifetime limit.
    const error = serverError({
      code: 251,
      codeName: 'NoSuchTransaction',
      errmsg: 'Transaction with { txnNumber: 1 } has been aborted.',
      errorLabels: ['TransientTransactionError'],
    });
    const mapped = toPortError(error);
    expect(mapped).to.be.instanceOf(TransactionLimitExceededError).and.instanceOf(StoreUnavailableError);
    expect((mapped as Error).message).to.match(/transactionLifetimeLimitSeconds/).and.match(/writes less/);
    expect((mapped as Error).cause).to.equal(error);
  });

  it('maps what the caller can fix to InvalidArgumentError', () => {
    for (const error of [
      new MongoInvalidArgumentError('Document is larger than the maximum size 16777216'),
      serverError({ code: 10334, codeName: 'BSONObjectTooLarge' }),
      serverError({ code: 15, codeName: 'Overflow', errmsg: 'Document exceeds maximum nesting depth of 100' }),
      serverError({ code: 17419, errmsg: 'Resulting document after update is larger than 16777216' }),
      serverError({ code: 17420, errmsg: 'Document to upsert is larger than 16777216' }),
      bsonRefusal({ _id: 'd', metadata: { _bsontype: 'card' } }),
    ]) {
      const mapped = toPortError(error);
      expect(mapped).to.be.instanceOf(InvalidArgumentError);
      expect((mapped as Error).cause).to.equal(error);
    }
  });

  it('says a replica set is needed when the server refuses transactions', () => {
    const error = serverError({
      code: 20,
      codeName: 'IllegalOperation',
      errmsg: 'Transaction numbers are only allowed on a replica set member or mongos',
    });
    const mapped = toPortError(error) as Error;
    expect(mapped.message).to.match(/needs a replica set/);
    expect(mapped.cause).to.equal(error);
  });

  it("leaves the port's own errors, other errors and unmapped server errors as they are", () => {
    const duplicate = serverError({ code: 11000, codeName: 'DuplicateKey' });
    // A shard's refusal to migrate chunks with its range deleter off: nothing this store sends.
    const rangeDeleter = serverError({ code: 313, codeName: 'ResumableRangeDeleterDisabled' });
    const own = new InvalidArgumentError('bad');
    const plain = new Error('work failed');
    for (const error of [duplicate, rangeDeleter, own, plain, 'text']) expect(toPortError(error)).to.equal(error);
  });
});

describe('MongoDB document store without a server', () => {
  // Nothing listens on port 1 of the loopback address: connecting fails at once.
  const unreachable = () =>
    createMongoDocumentStore({ url: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200', database: 'folio_none' });

  it('reports an unreachable server as StoreUnavailableError on every call, without running work', async () => {
    const store = unreachable();
    try {
      expect(store.kind).to.equal('mongodb');
      expect(await rejectionOf(store.get('balances', 'a'))).to.be.instanceOf(StoreUnavailableError);
      let ran = false;
      const failure = await rejectionOf(
        store.withTransaction(async () => {
          ran = true;
        }),
      );
      expect(failure).to.be.instanceOf(StoreUnavailableError);
      expect(ran, 'work ran without a server').to.equal(false);
      expect(await rejectionOf(store.listCollections())).to.be.instanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  it('checks its arguments before any I/O', async () => {
    const store = unreachable();
    try {
      expect(await rejectionOf(store.get('bad name', 'a'))).to.be.instanceOf(InvalidArgumentError);
      expect(await rejectionOf(store.find('balances', { limit: 0 }))).to.be.instanceOf(InvalidArgumentError);
      expect(await rejectionOf(store.ensureIndex('balances', ['a.b']))).to.be.instanceOf(InvalidArgumentError);
      expect(await rejectionOf(store.renameCollection('a', 'a'))).to.be.instanceOf(InvalidArgumentError);
    } finally {
      await store.close();
    }
  });
});
