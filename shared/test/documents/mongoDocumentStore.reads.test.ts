import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { BSON } from 'mongodb';
import { MAX_KEY_BYTES, MAX_WHERE_BYTES, WHERE_BYTES_PER_FIELD, createChecksum } from '../../src/documents/documentArguments.js';
import { createMongoDocumentStore } from '../../src/documents/mongoDocumentStore.js';
import type { Document, DocumentStore } from '../../src/documents/documentStore.js';
import { InvalidArgumentError } from '../../src/eventStore/errors.js';
import { ordinaryAnswer, startFakeMongoServer, type Answer, type FakeMongoServer } from './fakeMongoServer.js';

/**
 * The MongoDB document store's reads against a fake primary holding one collection, which limits
 * reads as a server does, scaled down so that a test can reach the limits: a snapshot lasts only
 * `snapshotWindowMs` (`minSnapshotHistoryWindowInSeconds`, 300 s by default), a transaction only
 * `transactionLifetimeMs` (`transactionLifetimeLimitSeconds`, 60 s), a reply batch holds at most
 * `batchBytes` (16 MiB) and each batch takes `batchMs` to read.
 */

interface Limits {
  snapshotWindowMs: number;
  transactionLifetimeMs: number;
  batchBytes: number;
  batchMs: number;
}

/** What a server accepts as a command: a BSON document of 16 MiB, and 16 KiB for the command around it. */
const MAX_COMMAND_BYTES = 16 * 1024 * 1024 + 16 * 1024;

/** MongoDB compares strings by their UTF-8 bytes. */
const byId = (a: BSON.Document, b: BSON.Document): number =>
  Buffer.compare(Buffer.from(a._id as string, 'utf8'), Buffer.from(b._id as string, 'utf8'));

/** The filters the adapter sends on `_id`: all, equal, `$in`, `$gt`. Any other is not faked. */
const matcher = (filter: BSON.Document): ((document: BSON.Document) => boolean) => {
  const keys = Object.keys(filter);
  if (keys.length === 0) return () => true;
  if (keys.length !== 1 || keys[0] !== '_id') throw new Error(`filter ${JSON.stringify(filter)} is not faked`);
  const condition = filter._id as unknown;
  if (typeof condition === 'string') return (document) => document._id === condition;
  const operators = condition as BSON.Document;
  if (Array.isArray(operators.$in)) {
    const wanted = new Set(operators.$in as string[]);
    return (document) => wanted.has(document._id as string);
  }
  if (typeof operators.$gt === 'string' && Object.keys(operators).length === 1) {
    const after = Buffer.from(operators.$gt, 'utf8');
    return (document) => Buffer.compare(Buffer.from(document._id as string, 'utf8'), after) > 0;
  }
  throw new Error(`filter ${JSON.stringify(filter)} is not faked`);
};

interface Cursor {
  remaining: BSON.Document[];
  /** When its snapshot was taken, for a cursor reading one. */
  snapshotAt?: number;
}

const serverError = (code: number, codeName: string, errmsg: string, errorLabels?: string[]): BSON.Document => ({
  ok: 0,
  code,
  codeName,
  errmsg,
  ...(errorLabels === undefined ? {} : { errorLabels }),
});

/** A primary holding `documents` in one collection, reading them within `limits`. */
const collectionAnswer = (collection: string, documents: readonly BSON.Document[], limits: Limits): Answer => {
  const stored = [...documents].sort(byId);
  const cursors = new Map<number, Cursor>();
  const transactionsStarted = new Map<string, number>();
  let nextCursorId = 1;

  /** At most `batchSize` documents and `batchBytes` bytes (but at least one), as a server's batch. */
  const takeBatch = (cursor: Cursor, batchSize: number): BSON.Document[] => {
    const batch: BSON.Document[] = [];
    let bytes = 0;
    while (cursor.remaining.length > 0 && batch.length < batchSize) {
      const size = BSON.calculateObjectSize(cursor.remaining[0]!);
      if (batch.length > 0 && bytes + size > limits.batchBytes) break;
      batch.push(cursor.remaining.shift()!);
      bytes += size;
    }
    return batch;
  };

  /**
   * A batch that filled `batchSize` leaves its cursor open, as a server's does: it stops reading
   * once the batch is full, and finds out that nothing follows only on the next `getMore`.
   */
  const reply = (cursorId: number, cursor: Cursor, batch: BSON.Document[], batchSize: number, first: boolean): BSON.Document => {
    const open = cursor.remaining.length > 0 || batch.length === batchSize;
    if (open) cursors.set(cursorId, cursor);
    else cursors.delete(cursorId);
    return {
      cursor: {
        id: BSON.Long.fromNumber(open ? cursorId : 0),
        ns: `folio_fake.${collection}`,
        [first ? 'firstBatch' : 'nextBatch']: batch,
      },
      ok: 1,
    };
  };

  return async (command) => {
    if (BSON.calculateObjectSize(command) > MAX_COMMAND_BYTES) {
      return serverError(10334, 'BSONObjectTooLarge', 'command document too large');
    }
    if (command.txnNumber !== undefined) {
      const transaction = `${(command.lsid as { id: BSON.Binary }).id.toString('hex')}:${String(command.txnNumber)}`;
      const started = transactionsStarted.get(transaction) ?? Date.now();
      transactionsStarted.set(transaction, started);
      if (Date.now() - started > limits.transactionLifetimeMs) {
        return serverError(251, 'NoSuchTransaction', 'transaction aborted: it exceeded transactionLifetimeLimitSeconds', [
          'TransientTransactionError',
        ]);
      }
    }
    if ('find' in command) {
      await sleep(limits.batchMs);
      const matches = command.find === collection ? stored.filter(matcher((command.filter ?? {}) as BSON.Document)) : [];
      const limit = typeof command.limit === 'number' && command.limit > 0 ? command.limit : Infinity;
      const readConcern = command.readConcern as BSON.Document | undefined;
      const cursor: Cursor = {
        remaining: matches.slice(0, limit),
        ...(readConcern?.level === 'snapshot' ? { snapshotAt: Date.now() } : {}),
      };
      // A first batch holds 101 documents unless the command says otherwise.
      const batchSize = typeof command.batchSize === 'number' ? command.batchSize : 101;
      return reply(nextCursorId++, cursor, takeBatch(cursor, batchSize), batchSize, true);
    }
    if ('getMore' in command) {
      await sleep(limits.batchMs);
      const cursorId = Number(command.getMore);
      const cursor = cursors.get(cursorId);
      if (cursor === undefined) return serverError(43, 'CursorNotFound', `cursor id ${cursorId} not found`);
      if (cursor.snapshotAt !== undefined && Date.now() - cursor.snapshotAt > limits.snapshotWindowMs) {
        cursors.delete(cursorId);
        return serverError(239, 'SnapshotTooOld', 'Read timestamp is older than the oldest available timestamp');
      }
      const batchSize = typeof command.batchSize === 'number' ? command.batchSize : Infinity;
      return reply(cursorId, cursor, takeBatch(cursor, batchSize), batchSize, false);
    }
    if ('killCursors' in command) {
      for (const id of command.cursors as unknown[]) cursors.delete(Number(id));
      return { cursorsKilled: command.cursors as unknown[], ok: 1 };
    }
    return ordinaryAnswer(command);
  };
};

const checksumOf = (documents: readonly BSON.Document[]): string => {
  const checksum = createChecksum();
  for (const document of [...documents].sort(byId)) checksum.add(document);
  return checksum.digest();
};

describe('MongoDB document store reads at scale (fake primary)', () => {
  let server: FakeMongoServer | undefined;
  let store: DocumentStore | undefined;

  afterEach(async () => {
    await server?.close();
    await store?.close();
    server = undefined;
    store = undefined;
  });

  /** Limits that large reads of few documents stay within. */
  const roomy: Limits = { snapshotWindowMs: 60_000, transactionLifetimeMs: 60_000, batchBytes: 48 * 1024 * 1024, batchMs: 0 };

  const open = async (documents: readonly BSON.Document[], limits: Limits): Promise<DocumentStore> => {
    server = await startFakeMongoServer(collectionAnswer('balances', documents, limits));
    store = createMongoDocumentStore({ url: server.url(), database: 'folio_fake' });
    return store;
  };

  it('checksums a collection that takes longer to read than the server keeps a snapshot or lets a transaction live', async () => {
    // Ids whose UTF-8 order (the server's) is not their UTF-16 order: pages follow the server's.
    const documents = Array.from({ length: 3000 }, (_, n) => ({
      _id: `${n % 2 === 0 ? '\uff61' : '\u{1f600}'}:${String(n).padStart(5, '0')}`,
      amount: String(n * 7),
      currency: 'EUR',
    }));
    // Some 35 documents a batch, 10 ms each: reading them all takes several times the snapshot window.
    const limits: Limits = { snapshotWindowMs: 250, transactionLifetimeMs: 250, batchBytes: 2500, batchMs: 10 };
    const documentStore = await open(documents, limits);

    const started = Date.now();
    expect(await documentStore.checksum('balances')).to.equal(checksumOf(documents));
    expect(Date.now() - started, 'the read outlasted the snapshot window').to.be.above(limits.snapshotWindowMs);
  });

  it('checksums an empty or missing collection as SHA-256 of nothing', async () => {
    const documentStore = await open([], roomy);
    expect(await documentStore.checksum('balances')).to.equal(checksumOf([]));
    expect(await documentStore.checksum('elsewhere')).to.equal(checksumOf([]));
  });

  it('getMany of many long ids keeps each query under the 16 MiB a command may take', async () => {
    const long = (n: number, length: number): string => `${String(n).padStart(6, '0')}:${'x'.repeat(length)}`;
    // 1000 ids of 20 KiB: 20 MiB of ids, which one query of 1000 ids would carry.
    const many = Array.from({ length: 1000 }, (_, n) => long(n, 20 * 1024));
    // And ids as long as an id may be.
    const longest = [long(1000, MAX_KEY_BYTES - 7), long(1001, MAX_KEY_BYTES - 7)];
    const stored = [many[0]!, many[500]!, many[999]!, ...longest].map((_id) => ({ _id, n: _id.slice(0, 6) }));
    const documentStore = await open(stored, roomy);

    const found = await documentStore.withTransaction((session) => session.getMany<Document>('balances', [...many, ...longest]));

    expect([...found.keys()].sort()).to.deep.equal(stored.map((document) => document._id).sort());
    const queries = server!.commands.filter((command) => 'find' in command);
    for (const query of queries) expect(BSON.calculateObjectSize(query)).to.be.at.most(MAX_COMMAND_BYTES);
    const asked = queries.flatMap((query) => ((query.filter as BSON.Document)._id as { $in: string[] }).$in);
    expect(asked, 'every id asked for once').to.have.members([...many, ...longest]);
  });

  it('getMany reads each query of up to 1000 ids in one round trip, not a first batch of 101 and then the rest', async () => {
    const documents = Array.from({ length: 1200 }, (_, n) => ({ _id: `d${String(n).padStart(4, '0')}`, amount: String(n) }));
    const documentStore = await open(documents, roomy);
    // Two queries' worth of ids, a few of them missing.
    const ids = [...documents.map((document) => document._id), 'missing-1', 'missing-2'];
    server!.commands.length = 0;

    const found = await documentStore.withTransaction((session) => session.getMany<Document>('balances', ids));

    expect(found.size).to.equal(documents.length);
    const reads = server!.commands.filter((command) => 'find' in command || 'getMore' in command);
    expect(reads.map((command) => Object.keys(command)[0])).to.deep.equal(['find', 'find']);
  });

  it('refuses an id, id prefix or cursor over the bound before sending anything, where the driver would throw', async () => {
    const documentStore = await open([{ _id: 'a' }, { _id: 'b' }], roomy);
    const { nextCursor } = await documentStore.find('balances', { limit: 1 });
    // Over 16 MiB, where the driver's BSON serialisation fails: the bound refuses it long before.
    const tooLong = 'x'.repeat(18 * 1024 * 1024);
    // A cursor find would never return, as a client may forge one: its `_id` replaced.
    const [field, direction, value] = JSON.parse(Buffer.from(nextCursor!, 'base64url').toString('utf8')) as unknown[];
    const forged = Buffer.from(JSON.stringify([field, direction, value, tooLong]), 'utf8').toString('base64url');
    server!.commands.length = 0;

    const refusals: [string, () => Promise<unknown>][] = [
      ['id', () => documentStore.get('balances', tooLong)],
      ['id', () => documentStore.withTransaction((session) => session.get('balances', tooLong))],
      ['ids[1]', () => documentStore.withTransaction((session) => session.getMany('balances', ['a', tooLong]))],
      ['id', () => documentStore.withTransaction((session) => session.delete('balances', tooLong))],
      ['_id', () => documentStore.withTransaction((session) => session.put('balances', { _id: tooLong }))],
      ['_id', () => documentStore.withTransaction((session) => session.putMany('balances', [{ _id: 'a' }, { _id: tooLong }]))],
      ['idPrefix', () => documentStore.find('balances', { idPrefix: tooLong })],
      ['where._id', () => documentStore.find('balances', { where: { _id: tooLong } })],
      ['where._id', () => documentStore.count('balances', { _id: tooLong })],
      ['after', () => documentStore.find('balances', { limit: 1, after: forged })],
    ];
    for (const [argument, refused] of refusals) {
      let failure: unknown;
      try {
        await refused();
      } catch (error) {
        failure = error;
      }
      expect(failure, argument).to.be.instanceOf(InvalidArgumentError);
      expect((failure as Error).message, argument).to.include(`${argument} takes ${tooLong.length} bytes`);
    }
    const sent = server!.commands.filter((command) => !('abortTransaction' in command) && !('endSessions' in command));
    expect(sent.map((command) => Object.keys(command)[0])).to.deep.equal([]);
  });

  it('refuses a where over the bound before sending anything, where the driver would throw its RangeError', async () => {
    const documentStore = await open([{ _id: 'a', name: 'a' }], roomy);
    server!.commands.length = 0;
    // Over 16 MiB, more than any command may carry.
    const tooLong = { name: 'x'.repeat(18 * 1024 * 1024) };
    for (const refused of [() => documentStore.find('balances', { where: tooLong }), () => documentStore.count('balances', tooLong)]) {
      let failure: unknown;
      try {
        await refused();
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(InvalidArgumentError);
      expect((failure as Error).message).to.match(new RegExp(`^where takes \\d+ bytes, more than the ${MAX_WHERE_BYTES}`));
    }
    expect(server!.commands.map((command) => Object.keys(command)[0])).to.deep.equal([]);
  });

  it('keeps a find of the largest where, id prefix and cursor together under the 16 MiB a command may take', async () => {
    const documentStore = await open([{ _id: 'a', name: 'a' }], roomy);
    const orderBy = { field: 'name', direction: 'asc' } as const;
    const longest = 'y'.repeat(MAX_KEY_BYTES);
    // A cursor as a client may forge one, with values as long as a cursor may carry.
    const cursor = Buffer.from(JSON.stringify(['name', 'asc', longest, longest]), 'utf8').toString('base64url');
    const where = { currency: 'z'.repeat(MAX_WHERE_BYTES - WHERE_BYTES_PER_FIELD - 'currency'.length) };
    server!.commands.length = 0;

    // The fake primary fakes no filter on other fields than `_id`: what matters is what was sent.
    await documentStore.find('balances', { where, idPrefix: longest, orderBy, after: cursor, limit: 1 }).catch(() => undefined);

    const [query] = server!.commands.filter((command) => 'find' in command);
    expect(query, 'the find was sent').not.to.equal(undefined);
    expect(BSON.calculateObjectSize(query!)).to.be.at.most(MAX_COMMAND_BYTES);
  });
});
