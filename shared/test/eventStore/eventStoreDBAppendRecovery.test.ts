import { randomUUID } from 'node:crypto';
import gossipServices from '@eventstore/db-client/generated/gossip_grpc_pb.js';
import gossipMessages from '@eventstore/db-client/generated/gossip_pb.js';
import serverFeaturesServices from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import serverFeaturesMessages from '@eventstore/db-client/generated/serverfeatures_pb.js';
import sharedMessages from '@eventstore/db-client/generated/shared_pb.js';
import statusMessages from '@eventstore/db-client/generated/status_pb.js';
import streamsServices from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsMessages, { type BatchAppendReq } from '@eventstore/db-client/generated/streams_pb.js';
import grpc, { type ServerDuplexStream } from '@grpc/grpc-js';
import { expect } from 'chai';
import anyMessages from 'google-protobuf/google/protobuf/any_pb.js';
import emptyMessages from 'google-protobuf/google/protobuf/empty_pb.js';
import { StoreUnavailableError, WrongExpectedRevisionError } from '../../src/eventStore/errors.js';
import type { EventStore } from '../../src/eventStore/eventStore.js';
import {
  createEventStoreDBEventStore,
  type EventStoreDBTimeouts,
} from '../../src/eventStore/eventStoreDB/eventStoreDBEventStore.js';
import { rejectionOf } from '../../src/testing/rejectionOf.js';

// Generated protobuf modules are CommonJS whose exports Node cannot name statically.
const { GossipService } = gossipServices;
const { ClusterInfo, EndPoint, MemberInfo } = gossipMessages;
const { ServerFeaturesService } = serverFeaturesServices;
const { SupportedMethod, SupportedMethods } = serverFeaturesMessages;
const { AllStreamPosition, UUID, WrongExpectedVersion } = sharedMessages;
const { Status } = statusMessages;
const { StreamsService } = streamsServices;
const { BatchAppendResp } = streamsMessages;
const { Any } = anyMessages;
const { Empty } = emptyMessages;
const { Server, ServerCredentials, status } = grpc;

type CheckAnswer = 'supported methods' | 'internal error' | 'none';
/** `'written'` succeeds, a status refuses, `'none'` never answers. */
type AppendAnswer = 'written' | 'none' | statusMessages.Status;

/** How a fake node answers; `n` counts from 1 over the node's life. */
interface NodeScript {
  /** Its nth check of its capabilities. */
  check?: (n: number) => CheckAnswer;
  /** Whether its nth gossip answer names it the leader; otherwise the cluster it knows has no live node. */
  leader?: (n: number) => boolean;
  /** Its nth batched append, sent on its `stream`th batched-append call. */
  append?: (n: number, stream: number) => AppendAnswer;
}

interface FakeNode {
  port: number;
  /** The capability checks and the batched-append calls the node was asked for. */
  seen: { checks: number; streams: number };
  stop(): void;
}

/**
 * A node the real client talks to over gRPC on localhost, built from the client's own generated
 * services: gossip naming itself leader, its capabilities (batched appends) and batched appends.
 */
const startNode = async (script: NodeScript): Promise<FakeNode> => {
  const seen = { checks: 0, streams: 0 };
  let gossips = 0;
  let appends = 0;
  let port = 0;
  const server = new Server();
  server.addService(ServerFeaturesService, {
    getSupportedMethods: (_call: unknown, callback: grpc.sendUnaryData<serverFeaturesMessages.SupportedMethods>) => {
      seen.checks += 1;
      const answer = script.check?.(seen.checks) ?? 'supported methods';
      if (answer === 'internal error') callback({ code: status.INTERNAL, details: 'Exception was thrown by handler.' });
      if (answer === 'supported methods') {
        const batchAppend = new SupportedMethod().setServiceName('event_store.client.streams.Streams').setMethodName('BatchAppend');
        callback(null, new SupportedMethods().setEventStoreServerVersion('24.10.0').setMethodsList([batchAppend]));
      }
    },
  });
  server.addService(GossipService, {
    read: (_call: unknown, callback: grpc.sendUnaryData<gossipMessages.ClusterInfo>) => {
      gossips += 1;
      const leader = script.leader?.(gossips) ?? true;
      const member = new MemberInfo()
        .setInstanceId(new UUID().setString(randomUUID()))
        .setTimeStamp('0')
        .setState(leader ? MemberInfo.VNodeState.LEADER : MemberInfo.VNodeState.UNKNOWN)
        .setIsAlive(leader)
        .setHttpEndPoint(new EndPoint().setAddress('127.0.0.1').setPort(port));
      callback(null, new ClusterInfo().setMembersList([member]));
    },
  });
  server.addService(StreamsService, {
    batchAppend: (call: ServerDuplexStream<BatchAppendReq, streamsMessages.BatchAppendResp>) => {
      seen.streams += 1;
      const stream = seen.streams;
      call.on('data', (request: BatchAppendReq) => {
        if (!request.getIsFinal()) return;
        appends += 1;
        const answer = script.append?.(appends, stream) ?? 'written';
        if (answer === 'none') return;
        const response = new BatchAppendResp()
          .setCorrelationId(request.getCorrelationId())
          .setStreamIdentifier(request.getOptions()?.getStreamIdentifier());
        if (answer === 'written') {
          const position = new AllStreamPosition().setCommitPosition(`${appends * 100}`).setPreparePosition(`${appends * 100}`);
          call.write(response.setSuccess(new BatchAppendResp.Success().setCurrentRevision('0').setPosition(position)));
        } else {
          call.write(response.setError(answer));
        }
      });
      call.on('end', () => call.end());
    },
  });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    ),
  );
  return { port, seen, stop: () => server.forceShutdown() };
};

/** What a node answers a batched append it refuses: a google.rpc.Status packing `details` as `typeName`. */
const refusal = (message: string, typeName: string, details: Uint8Array): statusMessages.Status => {
  const packed = new Any();
  packed.pack(details, typeName);
  return new Status().setMessage(message).setDetails(packed);
};


const event = () => ({ id: randomUUID(), type: 'Deposited', data: { amount: '10' } });

describe('EventStoreDB appends after a failed connection (real client, fake node)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const storeOn = async (
    script: NodeScript,
    connectionString: (port: number) => string,
    timeouts?: EventStoreDBTimeouts,
  ): Promise<{ node: FakeNode; store: EventStore }> => {
    const node = await startNode(script);
    cleanups.push(() => node.stop());
    const store = createEventStoreDBEventStore({ connectionString: connectionString(node.port), timeouts });
    cleanups.push(() => store.close());
    return { node, store };
  };
  const singleNode = (port: number) => `esdb://127.0.0.1:${port}?tls=false`;

  it('appends again once the node answers, after its check of capabilities failed with an internal error', async () => {
    const { node, store } = await storeOn({ check: (n) => (n === 1 ? 'internal error' : 'supported methods') }, singleNode);

    const failure = await rejectionOf(store.appendToStream('account-70', [event()]));
    const written = await store.appendToStream('account-70', [event()]);

    // Failed before it was sent: nothing was written, so it is the store's 503, safe to retry.
    expect(failure).to.be.instanceOf(StoreUnavailableError);
    expect((failure as Error).message).to.match(/nothing was written/);
    expect(written.nextExpectedRevision).to.equal(0n);
    expect(node.seen.checks).to.equal(2);
  });

  it('appends again once a node is found, after a cluster discovery that found none', async () => {
    const { store } = await storeOn(
      { leader: (n) => n > 1 },
      (port) => `esdb+discover://127.0.0.1:${port}?tls=false&maxDiscoverAttempts=1&discoveryInterval=1`,
    );

    const failure = await rejectionOf(store.appendToStream('account-71', [event()]));
    const written = await store.appendToStream('account-71', [event()]);

    expect(failure).to.be.instanceOf(StoreUnavailableError);
    expect((failure as Error).message).to.contain('Failed to discover after 1 attempts.');
    expect(written.nextExpectedRevision).to.equal(0n);
  });

  it('appends again once the node answers, after its check of capabilities went unanswered', async () => {
    const { node, store } = await storeOn({ check: (n) => (n === 1 ? 'none' : 'supported methods') }, singleNode, {
      writeMs: 2_000,
    });

    const failure = await rejectionOf(store.appendToStream('account-72', [event()]));
    const written = await store.appendToStream('account-72', [event()]);

    expect(failure).to.be.instanceOf(StoreUnavailableError);
    expect((failure as Error).message).to.match(/may or may not have been written/);
    expect(written.nextExpectedRevision).to.equal(0n);
    expect(node.seen.checks).to.equal(2);
  });

  it('fails appends still waiting on a connection given up with 503, and appends on a new one', async () => {
    // The node's first batched-append call never answers; later calls do.
    let firstReceived!: () => void;
    const received = new Promise<void>((resolve) => {
      firstReceived = resolve;
    });
    const append = (_n: number, stream: number): AppendAnswer => {
      if (stream > 1) return 'written';
      firstReceived();
      return 'none';
    };
    const { node, store } = await storeOn({ append }, singleNode, { writeMs: 2_000 });

    const first = rejectionOf(store.appendToStream('account-73', [event()]));
    await received;
    const waiting = rejectionOf(store.appendToStream('account-74', [event()]));
    const failures = [await first, await waiting];
    const written = await store.appendToStream('account-75', [event()]);

    for (const failure of failures) {
      expect(failure).to.be.instanceOf(StoreUnavailableError);
      expect((failure as Error).message).to.match(/may or may not have been written/);
    }
    expect(written.nextExpectedRevision).to.equal(0n);
    expect(node.seen.streams).to.equal(2);
  });

  it('keeps its connection through appends the node answers, refusals and conflicts included', async () => {
    const busy = refusal('Server Is Busy', 'google.protobuf.Empty', new Empty().serializeBinary());
    const conflict = refusal(
      'WrongExpectedVersion',
      'event_store.client.WrongExpectedVersion',
      new WrongExpectedVersion().setCurrentStreamRevision('3').setExpectedStreamPosition('1').serializeBinary(),
    );
    const answers: AppendAnswer[] = ['written', busy, conflict, 'written'];
    const { node, store } = await storeOn({ append: (n) => answers[n - 1] ?? 'written' }, singleNode);

    await store.appendToStream('account-76', [event()]);
    const refused = await rejectionOf(store.appendToStream('account-76', [event()], { expectedRevision: 0n }));
    const conflicting = await rejectionOf(store.appendToStream('account-76', [event()], { expectedRevision: 1n }));
    await store.appendToStream('account-76', [event()]);

    expect(refused).to.be.instanceOf(StoreUnavailableError);
    expect(conflicting).to.be.instanceOf(WrongExpectedRevisionError);
    expect(node.seen).to.deep.equal({ checks: 1, streams: 1 });
  });
});
