import { randomUUID } from 'node:crypto';
import { Duplex } from 'node:stream';
import { UnknownError, type EventStoreDBClient } from '@eventstore/db-client';
import { batchAppend } from '@eventstore/db-client/dist/streams/appendToStream/batchAppend.js';
import sharedMessages from '@eventstore/db-client/generated/shared_pb.js';
import statusMessages from '@eventstore/db-client/generated/status_pb.js';
import streamsMessages, { type BatchAppendReq } from '@eventstore/db-client/generated/streams_pb.js';
import { expect } from 'chai';
import anyMessages from 'google-protobuf/google/protobuf/any_pb.js';
import emptyMessages from 'google-protobuf/google/protobuf/empty_pb.js';
import { StoreUnavailableError, WrongExpectedRevisionError } from '../../src/eventStore/errors.js';
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
 * request with `answer`.
 */
const batchAppendingClient = (answer: () => statusMessages.Status): EventStoreDBClient => {
  const grpc = () =>
    new Duplex({
      objectMode: true,
      read() {},
      write(request: BatchAppendReq, _encoding, done) {
        if (request.getIsFinal()) {
          this.push(
            new BatchAppendResp()
              .setCorrelationId(request.getCorrelationId())
              .setStreamIdentifier(request.getOptions()?.getStreamIdentifier())
              .setError(answer()),
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
});
