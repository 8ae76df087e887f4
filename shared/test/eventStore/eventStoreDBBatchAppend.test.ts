import { randomUUID } from 'node:crypto';
import { Duplex } from 'node:stream';
import { UnknownError, type EventStoreDBClient } from '@eventstore/db-client';
import { batchAppend } from '@eventstore/db-client/dist/streams/appendToStream/batchAppend.js';
import sharedMessages from '@eventstore/db-client/generated/shared_pb.js';
import statusMessages from '@eventstore/db-client/generated/status_pb.js';
import streamsMessages, { type BatchAppendReq } from '@eventstore/db-client/generated/streams_pb.js';
import { expect } from 'chai';
import { BinaryWriter } from 'google-protobuf';
import anyMessages from 'google-protobuf/google/protobuf/any_pb.js';
import emptyMessages from 'google-protobuf/google/protobuf/empty_pb.js';
import { InvalidArgumentError, StoreUnavailableError, WrongExpectedRevisionError } from '../../src/eventStore/errors.js';
import { createEventStoreDBEventStore } from '../../src/eventStore/eventStoreDB/eventStoreDBEventStore.js';
import { toProblem } from '../../src/http/problemDetails.js';
import { rejectionOf } from '../../src/testing/rejectionOf.js';

// Generated protobuf modules are CommonJS whose exports Node cannot name statically.
const { WrongExpectedVersion } = sharedMessages;
const { Status } = statusMessages;
const { BatchAppendResp } = streamsMessages;
const { Any } = anyMessages;
const { Empty } = emptyMessages;

/** The error a server answers one batched append with: a google.rpc.Status packing `details` as `typeName`. */
const serverError = (message: string, typeName: string, details: Uint8Array): statusMessages.Status => {
  const packed = new Any();
  packed.pack(details, typeName);
  return new Status().setMessage(message).setDetails(packed);
};

/**
 * A client whose appends run the real client's batched append (its request batching, response
 * matching and error unpacking) over a fake gRPC stream, where the server answers each final
 * request with `answer`: an error status for the append, or an `Error` that ends the whole call.
 */
const batchAppendingClient = (answer: () => statusMessages.Status | Error): EventStoreDBClient => {
  const grpc = () =>
    new Duplex({
      objectMode: true,
      read() {},
      write(request: BatchAppendReq, _encoding, done) {
        if (request.getIsFinal()) {
          const outcome = answer();
          if (outcome instanceof Error) return done(outcome);
          this.push(
            new BatchAppendResp()
              .setCorrelationId(request.getCorrelationId())
              .setStreamIdentifier(request.getOptions()?.getStreamIdentifier())
              .setError(outcome),
          );
        }
        done();
      },
    });
  const connection = {
    throwOnAppendFailure: true,
    callArguments: () => [],
    createDeadline: (deadline: number) => new Date(Date.now() + deadline),
    GRPCStreamCreator:
      (_client: unknown, _name: string, creator: (client: { batchAppend(): Duplex }) => Duplex) =>
      async () =>
        creator({ batchAppend: grpc }),
  };
  return {
    appendToStream: (streamName: string, events: never[], options: { expectedRevision: never; deadline: number }) =>
      batchAppend.call(connection as never, streamName, events, {
        expectedRevision: options.expectedRevision,
        batchAppendSize: 3 * 1024 * 1024,
        deadline: options.deadline,
      }),
  } as unknown as EventStoreDBClient;
};


const event = () => ({ id: randomUUID(), type: 'Deposited', data: { amount: '10' } });

describe('EventStoreDB batched appends (real client, fake server)', () => {
  it('reports a conflict the server answers a batched append with as the port conflict', async () => {
    const conflict = new WrongExpectedVersion().setCurrentStreamRevision('3').setExpectedStreamPosition('1');
    const store = createEventStoreDBEventStore({
      client: batchAppendingClient(() =>
        serverError('WrongExpectedVersion', 'event_store.client.WrongExpectedVersion', conflict.serializeBinary()),
      ),
    });

    const error = await rejectionOf(store.appendToStream('account-60', [event()], { expectedRevision: 1n }));

    expect(error).to.be.instanceOf(WrongExpectedRevisionError);
    const { streamName, expectedRevision, actualRevision } = error as WrongExpectedRevisionError;
    expect([streamName, expectedRevision, actualRevision]).to.deep.equal(['account-60', 1n, 3n]);
  });

  it('answers an append the server did not handle (no leader during an election, too busy) with 503 store-unavailable', async () => {
    // What a node answers a batched append it did not take (its NotHandled reasons), with empty details.
    for (const reason of ['Server Is Not Ready', 'Server Is Busy', 'No leader info available in response']) {
      const store = createEventStoreDBEventStore({
        client: batchAppendingClient(() => serverError(reason, 'google.protobuf.Empty', new Empty().serializeBinary())),
      });

      const error = await rejectionOf(store.appendToStream('account-61', [event()], { expectedRevision: 4n }));

      expect(error, reason).to.be.instanceOf(StoreUnavailableError);
      expect((error as Error).cause, reason).to.be.instanceOf(UnknownError);
      expect((error as Error).message, reason).to.contain(reason);
      expect(toProblem(error, '/v1/transfers').status, reason).to.equal(503);
    }
  });

  it("answers an event larger than EventStoreDB's MaxAppendEventSize with 400 invalid-argument, saying nothing was written", async () => {
    // KurrentDB's MaximumAppendEventSizeExceeded {eventId, proposedEventSize, maxAppendEventSize}, which this client does not know.
    const tooLarge = event();
    const details = new BinaryWriter();
    details.writeString(1, tooLarge.id);
    details.writeUint32(2, 2_000_000);
    details.writeUint32(3, 1_048_576);
    const store = createEventStoreDBEventStore({
      client: batchAppendingClient(() =>
        serverError(
          'MaximumAppendEventSizeExceeded',
          'event_store.client.MaximumAppendEventSizeExceeded',
          details.getResultBuffer(),
        ),
      ),
    });

    const error = await rejectionOf(store.appendToStream('account-62', [tooLarge], { expectedRevision: 'any' }));

    expect(error).to.be.instanceOf(InvalidArgumentError);
    expect((error as Error).cause).to.be.instanceOf(UnknownError);
    const problem = toProblem(error, '/v1/transfers');
    expect([problem.status, problem.type]).to.deep.equal([400, 'urn:folio:problem:invalid-argument']);
    expect(problem.detail).to.equal(
      "an event of the append to account-62 is larger than EventStoreDB's maximum event size " +
        '(its MaxAppendEventSize setting): nothing was written',
    );
  });

  it('answers an append whose stream the server reset with 503 store-unavailable, saying it may have been written', async () => {
    // What @grpc/grpc-js ends a call with when the server resets its HTTP/2 stream (RST_STREAM INTERNAL_ERROR).
    const details = 'Received RST_STREAM with code 2 (Internal server error)';
    const reset = Object.assign(new Error(`13 INTERNAL: ${details}`), { code: 13, details });
    const store = createEventStoreDBEventStore({ client: batchAppendingClient(() => reset) });

    const error = await rejectionOf(store.appendToStream('account-63', [event()], { expectedRevision: 2n }));

    expect(error).to.be.instanceOf(StoreUnavailableError);
    expect((error as Error).cause).to.be.instanceOf(UnknownError);
    const problem = toProblem(error, '/v1/transfers');
    expect([problem.status, problem.type]).to.deep.equal([503, 'urn:folio:problem:store-unavailable']);
    expect(problem.detail).to.equal(
      `the append to account-63 was cut off by a reset of its gRPC call (13 INTERNAL: ${details}): ` +
        'it may or may not have been written',
    );
  });
});
