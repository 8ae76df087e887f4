import { createServer, type AddressInfo, type Socket } from 'node:net';
import { BSON } from 'mongodb';

/**
 * Just enough of MongoDB's wire protocol for the real driver to talk to: the primary of a
 * one-member replica set that answers each command as `answer` says, and records every command.
 * What a server does under failure (a majority that never acknowledges) is played here, with the
 * driver's own session, transaction and retry logic doing what they do against a real server.
 */

export type Answer = (command: BSON.Document) => Promise<BSON.Document> | BSON.Document;

export interface FakeMongoServer {
  /** A connection string for it; `options` are appended as they are. */
  url(options?: string): string;
  /** Every command received, monitoring handshakes left out. */
  readonly commands: BSON.Document[];
  close(): Promise<void>;
}

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

const HANDSHAKES = new Set(['hello', 'ismaster', 'isMaster']);

/** The wire message answering request `requestId` with `document`, in the protocol it came in. */
const reply = (opCode: number, requestId: number, document: BSON.Document): Buffer => {
  const body = BSON.serialize(document);
  const prefix =
    opCode === OP_QUERY
      ? Buffer.alloc(20) // responseFlags, cursorID, startingFrom (all 0), then numberReturned
      : Buffer.alloc(5); // flagBits (0), then section kind 0
  if (opCode === OP_QUERY) prefix.writeInt32LE(1, 16);
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + prefix.length + body.length, 0);
  header.writeInt32LE(0, 4);
  header.writeInt32LE(requestId, 8);
  header.writeInt32LE(opCode === OP_QUERY ? OP_REPLY : OP_MSG, 12);
  return Buffer.concat([header, prefix, body]);
};

/** The command of an OP_QUERY or OP_MSG, its document sequences folded in as arrays. */
const commandOf = (message: Buffer): BSON.Document => {
  const opCode = message.readInt32LE(12);
  if (opCode === OP_QUERY) {
    const nameEnd = message.indexOf(0, 20);
    return BSON.deserialize(message.subarray(nameEnd + 1 + 8));
  }
  if (opCode !== OP_MSG) throw new Error(`opCode ${opCode} is not faked`);
  const checksum = (message.readUInt32LE(16) & 1) === 1 ? 4 : 0;
  let command: BSON.Document = {};
  const sequences: Record<string, BSON.Document[]> = {};
  for (let at = 20; at < message.length - checksum; ) {
    const kind = message[at]!;
    at += 1;
    const size = message.readInt32LE(at);
    if (kind === 0) {
      command = BSON.deserialize(message.subarray(at, at + size));
    } else {
      const nameEnd = message.indexOf(0, at + 4);
      const name = message.toString('utf8', at + 4, nameEnd);
      const documents: BSON.Document[] = [];
      for (let document = nameEnd + 1; document < at + size; ) {
        const length = message.readInt32LE(document);
        documents.push(BSON.deserialize(message.subarray(document, document + length)));
        document += length;
      }
      sequences[name] = documents;
    }
    at += size;
  }
  return { ...command, ...sequences };
};

export const startFakeMongoServer = async (answer: Answer): Promise<FakeMongoServer> => {
  const commands: BSON.Document[] = [];
  const sockets = new Set<Socket>();
  let host = '';

  const hello = (): BSON.Document => ({
    helloOk: true,
    ismaster: true,
    isWritablePrimary: true,
    setName: 'fake',
    setVersion: 1,
    hosts: [host],
    primary: host,
    me: host,
    electionId: new BSON.ObjectId('7fffffff0000000000000001'),
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  });

  const respond = async (socket: Socket, message: Buffer): Promise<void> => {
    const opCode = message.readInt32LE(12);
    const requestId = message.readInt32LE(4);
    const command = commandOf(message);
    const name = Object.keys(command)[0]!;
    let document: BSON.Document;
    if (HANDSHAKES.has(name)) {
      document = hello();
    } else {
      commands.push(command);
      try {
        document = await answer(command);
      } catch (error) {
        document = { ok: 0, code: 1, codeName: 'InternalError', errmsg: String(error) };
      }
    }
    if (!socket.destroyed) socket.write(reply(opCode, requestId, document));
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= buffered.readInt32LE(0)) {
        const length = buffered.readInt32LE(0);
        void respond(socket, buffered.subarray(0, length));
        buffered = buffered.subarray(length);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: (options = '') => `mongodb://${host}/?directConnection=true${options}`,
    commands,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** What a primary answers to the commands a transaction of `put`s sends, when nothing goes wrong. */
export const ordinaryAnswer = (command: BSON.Document): BSON.Document => {
  if ('update' in command) {
    const updates = (command.updates ?? []) as BSON.Document[];
    return {
      n: updates.length,
      nModified: 0,
      upserted: updates.map((update, index) => ({ index, _id: (update.q as BSON.Document)._id })),
      ok: 1,
    };
  }
  if ('createIndexes' in command) return { numIndexesBefore: 1, numIndexesAfter: 2, ok: 1 };
  return { ok: 1 };
};
