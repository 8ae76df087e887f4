import { createHash, randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { expect } from 'chai';
import type { Document, DocumentSession, DocumentStore, FindOptions } from '../documents/documentStore.js';
import { InvalidArgumentError } from '../eventStore/errors.js';
import { rejectionOf } from './rejectionOf.js';

/** How the contract suite gets a store of the adapter under test. */
export interface DocumentStoreContractFactory {
  /** Adapter name shown in the suite title, e.g. `'sqlite'`. */
  name: string;
  /**
   * A store to test against. For a real server this may share one database across tests, so
   * tests use collections of their own and never assume the database is empty.
   */
  create(): Promise<DocumentStore>;
}

/** A prefix no other test (or run, on a shared server) uses; collection names start with a letter. */
const uniquePrefix = (): string => `c${randomUUID().replaceAll('-', '').slice(0, 16)}`;


const expectInvalidArgument = async (promise: Promise<unknown>, what: string): Promise<void> => {
  const error = await rejectionOf(promise, what);
  expect(error, `${what} failed with ${String(error)}`).to.be.instanceOf(InvalidArgumentError);
};

/** The order both adapters give strings: by UTF-8 bytes, as SQLite's BINARY and MongoDB's simple collation do. */
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const ids = (documents: readonly Document[]): string[] => documents.map((d) => d._id);

/**
 * Registers the document store contract: the semantics of the `DocumentStore` port that every
 * adapter must share, run against the adapter `factory` builds. Safe to run against a shared,
 * non-empty server: every test works in collections under a fresh prefix.
 */
export const describeDocumentStoreContract = (factory: DocumentStoreContractFactory): void => {
  describe(`document store contract: ${factory.name}`, () => {
    let store: DocumentStore;

    before(async () => {
      store = await factory.create();
    });

    after(async () => {
      await store?.close();
    });

    const putAll = (collection: string, documents: readonly Document[]): Promise<void> =>
      store.withTransaction(async (session) => {
        for (const document of documents) await session.put(collection, document);
      });

    /** Every page of a `find`, in order, following `nextCursor`. */
    const findAll = async (collection: string, options: FindOptions): Promise<Document[]> => {
      const found: Document[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 1000; pages++) {
        const page = await store.find(collection, after === undefined ? options : { ...options, after });
        found.push(...page.items);
        if (page.nextCursor === undefined) return found;
        after = page.nextCursor;
      }
      throw new Error('find kept returning a next cursor');
    };

    it('names its adapter', () => {
      expect(store.kind).to.be.a('string').and.not.equal('');
    });

    describe('documents', () => {
      it('round-trips JSON documents exactly: nested objects, arrays, unicode, numbers, booleans, null', async () => {
        const collection = `${uniquePrefix()}-docs`;
        const document: Document = {
          _id: 'doc-1',
          amount: '123456789012345678901234567890',
          negative: '-9223372036854775808',
          text: 'Zürich — 東京 🚀 e\u0301 "quoted" \\ tab\t newline\n',
          numbers: [0, -1, 1.5, -2.25, 2 ** 53 - 1, 1e-7, 1.7976931348623157e308, 5e-324],
          flags: { yes: true, no: false, none: null },
          nested: { list: [{ a: [1, [2, [3]]] }, [], {}], empty: '', deeper: { deepest: { value: 'x' } } },
        };
        await putAll(collection, [document]);

        const read = await store.get(collection, 'doc-1');

        expect(read).to.deep.equal(document);
        expect(typeof read!.amount, 'a bigint carried as a string stays a string').to.equal('string');
        expect(Object.keys(read!).sort()).to.deep.equal(Object.keys(document).sort());
      });

      it('stores what JSON makes of a value: dates as ISO strings, undefined members dropped', async () => {
        const collection = `${uniquePrefix()}-docs`;
        const document = { _id: 'd', at: new Date('2024-02-29T12:34:56.789Z'), gone: undefined, kept: 1 };
        await putAll(collection, [document as unknown as Document]);

        expect(await store.get(collection, 'd')).to.deep.equal({ _id: 'd', at: '2024-02-29T12:34:56.789Z', kept: 1 });
      });

      it('returns fresh objects: neither the input nor an earlier read aliases the stored document', async () => {
        const collection = `${uniquePrefix()}-docs`;
        const document = { _id: 'd', list: [1, 2], inner: { x: 1 } };
        await store.withTransaction(async (session) => {
          await session.put(collection, document);
          document.list.push(3);
          document.inner.x = 99;
        });

        const first = (await store.get<Document & { inner: { x: number } }>(collection, 'd'))!;
        first.inner.x = 42;

        expect(await store.get(collection, 'd')).to.deep.equal({ _id: 'd', list: [1, 2], inner: { x: 1 } });
      });

      it('put replaces the whole document', async () => {
        const collection = `${uniquePrefix()}-docs`;
        await putAll(collection, [{ _id: 'd', a: 1, b: { c: 2 } }]);
        await putAll(collection, [{ _id: 'd', b: { d: 3 } }]);

        expect(await store.get(collection, 'd')).to.deep.equal({ _id: 'd', b: { d: 3 } });
        expect(await store.count(collection)).to.equal(1);
      });

      it('get of a missing document, or in a missing collection, is undefined', async () => {
        const collection = `${uniquePrefix()}-docs`;
        expect(await store.get(collection, 'nothing')).to.equal(undefined);
        await putAll(collection, [{ _id: 'present' }]);
        expect(await store.get(collection, 'nothing')).to.equal(undefined);
      });

      it('delete removes the document; deleting a missing one does nothing', async () => {
        const collection = `${uniquePrefix()}-docs`;
        await putAll(collection, [{ _id: 'a' }, { _id: 'b' }]);
        await store.withTransaction(async (session) => {
          await session.delete(collection, 'a');
          await session.delete(collection, 'never-was');
          await session.delete(`${uniquePrefix()}-missing`, 'a');
        });

        expect(await store.get(collection, 'a')).to.equal(undefined);
        expect(ids((await store.find(collection)).items)).to.deep.equal(['b']);
      });

      it('refuses what is not a JSON document with a string _id, writing nothing', async () => {
        const collection = `${uniquePrefix()}-docs`;
        const bad: [unknown, string][] = [
          [null, 'null'],
          [['x'], 'an array'],
          [{ name: 'no id' }, 'a document without _id'],
          [{ _id: 7 }, 'a numeric _id'],
          [{ _id: 'big', amount: 10n }, 'a bigint value'],
          [{ _id: 'op', nested: { $set: 1 } }, 'a $-prefixed field name'],
          [{ _id: 'nul', ['a\u0000b']: 1 }, 'a field name with NUL'],
          [{ _id: 'surrogate', text: 'x\ud800y' }, 'a lone surrogate'],
        ];
        for (const [document, what] of bad) {
          await expectInvalidArgument(
            store.withTransaction(async (session) => {
              await session.put(collection, { _id: 'good' });
              await session.put(collection, document as Document);
            }),
            `put of ${what}`,
          );
        }
        expect(await store.count(collection), 'nothing of the failed transactions is written').to.equal(0);
        await expectInvalidArgument(store.get(collection, 7 as unknown as string), 'get with a numeric id');
      });

      it('getMany returns the documents that exist, by id, including the transaction\'s own writes and across many ids', async () => {
        const collection = `${uniquePrefix()}-many`;
        const stored = Array.from({ length: 1500 }, (_, n) => ({ _id: `d${n}`, n, tags: ['x', String(n)] }));
        await putAll(collection, stored);
        const wanted = [...stored.map((d) => d._id).filter((_, n) => n % 2 === 0), 'missing', 'd0'];

        await store.withTransaction(async (session) => {
          await session.put(collection, { _id: 'd2', n: -2 });
          await session.delete(collection, 'd4');
          await session.put(collection, { _id: 'fresh', n: 9 });
          const found = await session.getMany<Document & { n: number }>(collection, [...wanted, 'fresh']);
          expect(found.size).to.equal(750 - 1 + 1);
          expect(found.get('d0')).to.deep.equal({ _id: 'd0', n: 0, tags: ['x', '0'] });
          expect(found.get('d2')).to.deep.equal({ _id: 'd2', n: -2 });
          expect(found.has('d4'), 'deleted in the transaction').to.equal(false);
          expect(found.has('d1'), 'not asked for').to.equal(false);
          expect(found.has('missing')).to.equal(false);
          expect(found.get('fresh')).to.deep.equal({ _id: 'fresh', n: 9 });
          expect(await session.getMany(collection, [])).to.deep.equal(new Map());
          expect(await session.getMany(`${uniquePrefix()}-missing`, ['d0'])).to.deep.equal(new Map());
          await expectInvalidArgument(session.getMany(collection, ['d0', 7 as unknown as string]), 'getMany with a numeric id');
          await expectInvalidArgument(session.getMany(collection, 'd0' as unknown as string[]), 'getMany with a string for ids');
        });
      });

      it('putMany writes each document in order, the later of one id winning, and refuses them all for one bad one', async () => {
        const collection = `${uniquePrefix()}-many`;
        await putAll(collection, [{ _id: 'kept', v: 0 }]);
        await store.withTransaction(async (session) => {
          await session.putMany(collection, [
            { _id: 'a', v: 1 },
            { _id: 'b', v: 1 },
            { _id: 'a', v: 2 },
            { _id: 'kept', v: 3 },
          ]);
          await session.putMany(collection, []);
          expect(await session.get(collection, 'a')).to.deep.equal({ _id: 'a', v: 2 });
        });
        expect(await store.find(collection)).to.deep.equal({
          items: [
            { _id: 'a', v: 2 },
            { _id: 'b', v: 1 },
            { _id: 'kept', v: 3 },
          ],
        });

        await expectInvalidArgument(
          store.withTransaction((session) => session.putMany(collection, [{ _id: 'c', v: 1 }, { _id: 'op', nested: { $set: 1 } }])),
          'putMany with a $-prefixed field name',
        );
        await expectInvalidArgument(
          store.withTransaction((session) => session.putMany(collection, { _id: 'c' } as unknown as Document[])),
          'putMany with a document for the list',
        );
        expect(await store.count(collection), 'nothing of the refused lists is written').to.equal(3);
      });
    });

    describe('transactions', () => {
      it('commits all writes together, across collections, and returns what work returned', async () => {
        const prefix = uniquePrefix();
        await putAll(`${prefix}-a`, [{ _id: 'old' }]);

        const result = await store.withTransaction(async (session) => {
          await session.put(`${prefix}-a`, { _id: 'new', n: 1 });
          await session.delete(`${prefix}-a`, 'old');
          await session.put(`${prefix}-b`, { _id: 'other', n: 2 });
          return 'done';
        });

        expect(result).to.equal('done');
        expect(ids((await store.find(`${prefix}-a`)).items)).to.deep.equal(['new']);
        expect(await store.get(`${prefix}-b`, 'other')).to.deep.equal({ _id: 'other', n: 2 });
      });

      it('sees its own writes inside; a throwing transaction writes nothing and rethrows the same error', async () => {
        const collection = `${uniquePrefix()}-tx`;
        await putAll(collection, [
          { _id: 'kept', v: 1 },
          { _id: 'doomed', v: 1 },
        ]);
        const before = await store.checksum(collection);
        const failure = new Error('work failed');

        const error = await rejectionOf(
          store.withTransaction(async (session) => {
            await session.put(collection, { _id: 'added', v: 2 });
            await session.put(collection, { _id: 'kept', v: 2 });
            await session.delete(collection, 'doomed');
            expect(await session.get(collection, 'added')).to.deep.equal({ _id: 'added', v: 2 });
            expect(await session.get(collection, 'kept')).to.deep.equal({ _id: 'kept', v: 2 });
            expect(await session.get(collection, 'doomed')).to.equal(undefined);
            throw failure;
          }),
          'the throwing transaction',
        );

        expect(error).to.equal(failure);
        expect(await store.checksum(collection)).to.equal(before);
        expect(await store.get(collection, 'added')).to.equal(undefined);
        expect(await store.get(collection, 'kept')).to.deep.equal({ _id: 'kept', v: 1 });
      });

      it('keeps its writes from other readers until it commits', async () => {
        const collection = `${uniquePrefix()}-tx`;
        await putAll(collection, [{ _id: 'd', v: 1 }]);

        await store.withTransaction(async (session) => {
          await session.put(collection, { _id: 'd', v: 2 });
          await session.put(collection, { _id: 'e', v: 2 });
          expect(await store.get(collection, 'd'), 'read outside the transaction').to.deep.equal({ _id: 'd', v: 1 });
          expect(await store.count(collection), 'count outside the transaction').to.equal(1);
        });

        expect(await store.get(collection, 'd')).to.deep.equal({ _id: 'd', v: 2 });
        expect(await store.count(collection)).to.equal(2);
      });

      it('runs concurrent transactions one after the other: 2 × 50 increments of a counter make 100', async () => {
        const collection = `${uniquePrefix()}-tx`;
        await putAll(collection, [{ _id: 'counter', n: 0 }]);
        const worker = async (): Promise<void> => {
          for (let i = 0; i < 50; i++) {
            await store.withTransaction(async (session) => {
              const counter = await session.get<Document & { n: number }>(collection, 'counter');
              // Gives the other worker's transaction every chance to run between this read and the write.
              await yieldToEventLoop();
              await session.put(collection, { _id: 'counter', n: counter!.n + 1 });
            });
          }
        };

        await Promise.all([worker(), worker()]);

        expect(await store.get(collection, 'counter')).to.deep.equal({ _id: 'counter', n: 100 });
      });

      it('refuses a nested transaction and collection changes from inside one, which still commits', async () => {
        const collection = `${uniquePrefix()}-tx`;
        await store.withTransaction(async (session) => {
          await session.put(collection, { _id: 'outer' });
          await expectInvalidArgument(
            store.withTransaction(async (inner) => inner.put(collection, { _id: 'inner' })),
            'a nested withTransaction',
          );
          await expectInvalidArgument(store.ensureIndex(collection, ['v']), 'ensureIndex inside a transaction');
          await expectInvalidArgument(store.dropCollection(collection), 'dropCollection inside a transaction');
        });

        expect(ids((await store.find(collection)).items)).to.deep.equal(['outer']);
      });

      it('refuses a session used after its transaction ended', async () => {
        const collection = `${uniquePrefix()}-tx`;
        let kept: DocumentSession | undefined;
        await store.withTransaction(async (session) => {
          kept = session;
        });

        await expectInvalidArgument(kept!.put(collection, { _id: 'late' }), 'put on an ended session');
        await expectInvalidArgument(kept!.get(collection, 'late'), 'get on an ended session');
        await expectInvalidArgument(kept!.putMany(collection, [{ _id: 'late' }]), 'putMany on an ended session');
        await expectInvalidArgument(kept!.getMany(collection, ['late']), 'getMany on an ended session');
        expect(await store.get(collection, 'late')).to.equal(undefined);
      });
    });

    describe('find', () => {
      /** Values chosen so that loose equality (1 = true = '1' = [1]) would match more than it should. */
      const typedDocuments: Document[] = [
        { _id: 'num', v: 1, group: 'a' },
        { _id: 'float', v: 1.5, group: 'b' },
        { _id: 'true', v: true, group: 'a' },
        { _id: 'false', v: false, group: 'b' },
        { _id: 'string', v: '1', group: 'a' },
        { _id: 'array', v: [1, '1', true, null], group: 'b' },
        { _id: 'object', v: { x: 1 }, group: 'a' },
        { _id: 'null', v: null, group: 'b' },
        { _id: 'missing', group: 'a' },
      ];
      const sorted = (values: string[]): string[] => [...values].sort(byUtf8);

      it('matches where values by equality of value and type, never elements of an array', async () => {
        const collection = `${uniquePrefix()}-find`;
        await putAll(collection, typedDocuments);
        const matching = async (where: FindOptions['where']) =>
          sorted(ids((await store.find(collection, { where })).items));

        expect(await matching({ v: 1 }), 'v = 1').to.deep.equal(['num']);
        expect(await matching({ v: 1.5 }), 'v = 1.5').to.deep.equal(['float']);
        expect(await matching({ v: true }), 'v = true').to.deep.equal(['true']);
        expect(await matching({ v: false }), 'v = false').to.deep.equal(['false']);
        expect(await matching({ v: '1' }), "v = '1'").to.deep.equal(['string']);
        expect(await matching({ v: null }), 'v = null').to.deep.equal(sorted(['missing', 'null']));
        expect(await matching({ v: 'x' }), "v = 'x'").to.deep.equal([]);
        expect(await matching({ v: '{"x":1}' }), 'v = the JSON text of an object').to.deep.equal([]);
        expect(await matching({ v: '[1,"1",true,null]' }), 'v = the JSON text of an array').to.deep.equal([]);
        expect(await matching({ _id: 'float' }), '_id').to.deep.equal(['float']);
      });

      it('combines where fields with AND, and count agrees with find', async () => {
        const collection = `${uniquePrefix()}-find`;
        await putAll(collection, typedDocuments);

        const found = await store.find(collection, { where: { group: 'a', v: true } });
        expect(ids(found.items)).to.deep.equal(['true']);
        expect(await store.count(collection, { group: 'a', v: true })).to.equal(1);
        expect(await store.count(collection, { group: 'a' })).to.equal(5);
        expect(await store.count(collection, { v: null })).to.equal(2);
        expect(await store.count(collection)).to.equal(typedDocuments.length);
        expect(await store.count(`${uniquePrefix()}-missing`), 'a missing collection').to.equal(0);
      });

      it('orders by _id in UTF-8 byte order by default', async () => {
        const collection = `${uniquePrefix()}-find`;
        const names = ['b', 'B', '_x', 'a', 'a0', 'é', 'z', '10', '9'];
        await putAll(collection, names.map((_id) => ({ _id })));

        expect(ids((await store.find(collection)).items)).to.deep.equal(sorted(names));
        const descending = await store.find(collection, { orderBy: { field: '_id', direction: 'desc' } });
        expect(ids(descending.items)).to.deep.equal(sorted(names).reverse());
      });

      it('finds the documents whose _id starts with idPrefix, in _id order either way, one page or many', async () => {
        const collection = `${uniquePrefix()}-find`;
        // Neighbours on both sides of each prefix, in UTF-8 byte order: a longer owner id, the next
        // character, characters a LIKE or GLOB pattern would treat specially, and the last code points.
        const names = [
          '12:a', '12:b', '12:\u{10FFFF}', '12:\u{10FFFF}x', '12;', '123:a', '12', '1',
          '%_*:1', '%_*:2', '%a*:1', 'é:1', 'é:2', 'ê', '\u{FFFF}:1', '\u{10000}:1',
          '\u{10FFFF}', '\u{10FFFF}\u{10FFFF}', '\u{10FFFF}a',
        ];
        await putAll(collection, names.map((_id, n) => ({ _id, n, group: n % 2 === 0 ? 'even' : 'odd' })));
        for (const idPrefix of ['12:', '12', '%_*:', 'é:', '\u{FFFF}', '\u{10FFFF}', '\u{10FFFF}\u{10FFFF}']) {
          const expected = sorted(names.filter((name) => name.startsWith(idPrefix)));
          for (const direction of ['asc', 'desc'] as const) {
            const wanted = direction === 'asc' ? expected : [...expected].reverse();
            const orderBy = { field: '_id', direction };
            expect(ids((await store.find(collection, { idPrefix, orderBy })).items), `${idPrefix} ${direction}`).to.deep.equal(wanted);
            expect(ids(await findAll(collection, { idPrefix, orderBy, limit: 1 })), `${idPrefix} ${direction}, by 1`).to.deep.equal(wanted);
          }
        }
        const odd = await store.find(collection, { idPrefix: '12:', where: { group: 'odd' } });
        expect(ids(odd.items), 'with where').to.deep.equal(sorted(['12:b', '12:\u{10FFFF}x']));
        expect(ids((await store.find(collection, { idPrefix: 'none' })).items)).to.deep.equal([]);
        for (const idPrefix of ['', 7, '\uD800'] as unknown[]) {
          const refused = await store.find(collection, { idPrefix: idPrefix as string }).then(() => undefined, (error: unknown) => error);
          expect(refused, JSON.stringify(idPrefix)).to.be.instanceOf(InvalidArgumentError);
        }
      });

      it('orders by a field ascending or descending, breaking ties by _id in the same direction', async () => {
        const collection = `${uniquePrefix()}-find`;
        const ranks: Record<string, string> = { e: '2', a: '1', d: '2', b: '3', c: '1', f: '2' };
        const documents = Object.entries(ranks).map(([_id, rank]) => ({ _id, rank }));
        await putAll(collection, documents);

        const ascending = await store.find(collection, { orderBy: { field: 'rank', direction: 'asc' } });
        expect(ids(ascending.items)).to.deep.equal(['a', 'c', 'd', 'e', 'f', 'b']);
        const descending = await store.find(collection, { orderBy: { field: 'rank', direction: 'desc' } });
        expect(ids(descending.items)).to.deep.equal(['b', 'f', 'e', 'd', 'c', 'a']);
        const filtered = await store.find(collection, {
          where: { rank: '2' },
          orderBy: { field: 'rank', direction: 'desc' },
        });
        expect(ids(filtered.items)).to.deep.equal(['f', 'e', 'd']);
      });

      it('orders missing and null first, then numbers, then strings, the same one page or many at a time', async () => {
        const collection = `${uniquePrefix()}-find`;
        const documents: Document[] = [
          { _id: 'm1' },
          { _id: 'n1', k: null },
          { _id: 'm2' },
          { _id: 'i-5', k: -5 },
          { _id: 'f2.5', k: 2.5 },
          { _id: 'i2a', k: 2 },
          { _id: 'i2b', k: 2 },
          { _id: 'i100', k: 100 },
          { _id: 's-empty', k: '' },
          { _id: 's10', k: '10' },
          { _id: 's9', k: '9' },
          { _id: 'sA', k: 'A' },
          { _id: 'sa', k: 'a' },
          { _id: 'sé', k: 'é' },
        ];
        await putAll(collection, [...documents].reverse());
        const expected = ['m1', 'm2', 'n1', 'i-5', 'i2a', 'i2b', 'f2.5', 'i100'].concat(
          ['s-empty', 's10', 's9', 'sA', 'sa', 'sé'],
        );

        for (const direction of ['asc', 'desc'] as const) {
          const order = direction === 'asc' ? expected : [...expected].reverse();
          const orderBy = { field: 'k', direction };
          const onePage = await store.find(collection, { orderBy });
          expect(ids(onePage.items), `${direction} in one page`).to.deep.equal(order);
          for (const limit of [1, 2, 3]) {
            const paged = await findAll(collection, { orderBy, limit });
            expect(ids(paged), `${direction} in pages of ${limit}`).to.deep.equal(order);
          }
        }
      });

      it('pages with limit: a next cursor only when more documents follow; default 100, at most 1000', async () => {
        const collection = `${uniquePrefix()}-find`;
        const documents = Array.from({ length: 101 }, (_, i) => ({ _id: `d${String(i).padStart(3, '0')}` }));
        await putAll(collection, documents);

        const first = await store.find(collection);
        expect(first.items).to.have.length(100);
        expect(first.nextCursor).to.be.a('string');
        const second = await store.find(collection, { after: first.nextCursor! });
        expect(ids(second.items)).to.deep.equal(['d100']);
        expect(second.nextCursor).to.equal(undefined);

        const exact = await store.find(collection, { where: { _id: 'd007' }, limit: 1 });
        expect(ids(exact.items)).to.deep.equal(['d007']);
        expect(exact.nextCursor, 'no cursor when the page holds the last document').to.equal(undefined);
        expect((await store.find(collection, { limit: 1000 })).items).to.have.length(101);

        for (const limit of [0, -1, 1.5, 1001, Number.NaN]) {
          await expectInvalidArgument(store.find(collection, { limit }), `limit ${limit}`);
        }
      });

      it('keeps keyset pages stable while documents are inserted between pages', async () => {
        for (const direction of ['asc', 'desc'] as const) {
          const collection = `${uniquePrefix()}-find`;
          // Ranks with ties, so that page boundaries fall inside runs of equal ranks.
          const original = Array.from({ length: 30 }, (_, i) => ({
            _id: `o${String(i).padStart(2, '0')}`,
            rank: String(i % 7),
          }));
          await putAll(collection, original);
          const orderBy = { field: 'rank', direction };

          const seen: Document[] = [];
          let after: string | undefined;
          let round = 0;
          do {
            const page = await store.find(collection, { orderBy, limit: 4, ...(after === undefined ? {} : { after }) });
            seen.push(...page.items);
            after = page.nextCursor;
            // New documents at the start, the end and inside the run the cursor stopped in.
            round += 1;
            await putAll(collection, [
              { _id: `n${round}-first`, rank: '0' },
              { _id: `n${round}-last`, rank: '6' },
              { _id: `o${String(round).padStart(2, '0')}x`, rank: String(round % 7) },
            ]);
          } while (after !== undefined);

          const seenIds = ids(seen);
          expect(new Set(seenIds).size, `${direction}: no document twice`).to.equal(seenIds.length);
          const seenOriginal = seenIds.filter((id) => /^o\d\d$/.test(id));
          const expectedOriginal = ids(
            [...original].sort((a, b) => (a.rank === b.rank ? byUtf8(a._id, b._id) : byUtf8(a.rank, b.rank))),
          );
          expect(seenOriginal, `${direction}: every pre-existing document once, in order`).to.deep.equal(
            direction === 'asc' ? expectedOriginal : expectedOriginal.reverse(),
          );
          const key = (d: Document) => [d.rank as string, d._id] as const;
          for (let i = 1; i < seen.length; i++) {
            const [previous, current] = [key(seen[i - 1]!), key(seen[i]!)];
            const comparison = byUtf8(previous[0], current[0]) || byUtf8(previous[1], current[1]);
            const inOrder = direction === 'asc' ? comparison < 0 : comparison > 0;
            expect(inOrder, `${direction}: ${seenIds[i]} in order`).to.equal(true);
          }
        }
      });

      it('refuses a cursor made for another order, and text that is no cursor', async () => {
        const collection = `${uniquePrefix()}-find`;
        await putAll(collection, [
          { _id: 'a', k: '1' },
          { _id: 'b', k: '2' },
        ]);
        const page = await store.find(collection, { orderBy: { field: 'k', direction: 'asc' }, limit: 1 });

        await expectInvalidArgument(
          store.find(collection, { orderBy: { field: 'k', direction: 'desc' }, after: page.nextCursor! }),
          'a cursor of another direction',
        );
        await expectInvalidArgument(
          store.find(collection, { limit: 1, after: page.nextCursor! }),
          'a cursor of another field',
        );
        await expectInvalidArgument(store.find(collection, { after: 'not a cursor' }), 'a made-up cursor');
        await expectInvalidArgument(
          store.find(collection, { after: Buffer.from('["_id","asc",{},"x"]').toString('base64url') }),
          'a cursor holding an object',
        );
      });

      it('refuses to page over an orderBy field holding values other than strings, numbers or null', async () => {
        const collection = `${uniquePrefix()}-find`;
        await putAll(collection, [
          { _id: 'a', k: { nested: 1 } },
          { _id: 'b', k: { nested: 2 } },
        ]);

        await expectInvalidArgument(
          store.find(collection, { orderBy: { field: 'k', direction: 'asc' }, limit: 1 }),
          'paging on objects',
        );
      });

      it('refuses invalid field names and where values', async () => {
        const collection = `${uniquePrefix()}-find`;
        const badFields = ['a.b', '$where', 'has space', '', '1st', "x'y"];
        for (const field of badFields) {
          await expectInvalidArgument(
            store.find(collection, { where: { [field]: 1 } }),
            `where on ${JSON.stringify(field)}`,
          );
          await expectInvalidArgument(
            store.find(collection, { orderBy: { field, direction: 'asc' } }),
            `orderBy on ${JSON.stringify(field)}`,
          );
        }
        await expectInvalidArgument(
          store.find(collection, { orderBy: { field: 'k', direction: 'up' as 'asc' } }),
          'an unknown direction',
        );
        const badValues: unknown[] = [{ $gt: 1 }, [1], Number.POSITIVE_INFINITY, 1n, undefined];
        for (const value of badValues) {
          await expectInvalidArgument(
            store.find(collection, { where: { k: value as string } }),
            `where k = ${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)}`,
          );
        }
        await expectInvalidArgument(store.count(collection, { _id: 1 }), 'where _id = 1');
      });
    });

    describe('indexes', () => {
      it('ensureIndex is idempotent and leaves find and count unchanged', async () => {
        const collection = `${uniquePrefix()}-idx`;
        const documents = Array.from({ length: 20 }, (_, i) => ({
          _id: `d${String(i).padStart(2, '0')}`,
          g: i % 2 === 0,
          k: String(i % 5),
        }));
        await putAll(collection, documents);
        const query = { where: { g: true }, orderBy: { field: 'k', direction: 'desc' as const }, limit: 3 };
        const before = await findAll(collection, query);

        await store.ensureIndex(collection, ['k']);
        await store.ensureIndex(collection, ['g', 'k']);
        await store.ensureIndex(collection, ['k']);
        await store.ensureIndex(collection, ['g', 'k']);

        expect(ids(await findAll(collection, query))).to.deep.equal(ids(before));
        expect(await store.count(collection, { g: true })).to.equal(10);
      });

      it('refuses an index without fields, with a field twice, or with an invalid field', async () => {
        const collection = `${uniquePrefix()}-idx`;
        await expectInvalidArgument(store.ensureIndex(collection, []), 'no fields');
        await expectInvalidArgument(store.ensureIndex(collection, ['a', 'a']), 'a field twice');
        await expectInvalidArgument(store.ensureIndex(collection, ['a.b']), 'a dotted field');
      });
    });

    describe('collections', () => {
      it('lists collections by prefix, including one that only has an index', async () => {
        const prefix = uniquePrefix();
        await putAll(`${prefix}-b`, [{ _id: 'x' }]);
        await putAll(`${prefix}-a`, [{ _id: 'x' }]);
        await store.ensureIndex(`${prefix}-c`, ['k']);
        await putAll(`${uniquePrefix()}-other`, [{ _id: 'x' }]);

        expect(await store.listCollections(prefix)).to.deep.equal([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
        expect(await store.listCollections()).to.include.members([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
        expect(await store.listCollections(`${prefix}-a`)).to.deep.equal([`${prefix}-a`]);
      });

      it('refuses invalid collection names before doing anything', async () => {
        const names = ['', 'has space', 'semi;colon', 'x"y', "x'y", '1abc', 'sqlite_master', '$cmd', 'system.users'];
        names.push('a'.repeat(101));
        for (const name of names) {
          const what = JSON.stringify(name);
          await expectInvalidArgument(store.get(name, 'x'), `get in ${what}`);
          await expectInvalidArgument(store.find(name), `find in ${what}`);
          await expectInvalidArgument(store.count(name), `count in ${what}`);
          await expectInvalidArgument(store.ensureIndex(name, ['k']), `ensureIndex on ${what}`);
          await expectInvalidArgument(store.dropCollection(name), `dropCollection of ${what}`);
          await expectInvalidArgument(store.checksum(name), `checksum of ${what}`);
          await expectInvalidArgument(putAll(name, [{ _id: 'x' }]), `put into ${what}`);
          await expectInvalidArgument(store.renameCollection(name, 'valid'), `rename of ${what}`);
        }
      });

      it('drops a collection with its documents; dropping a missing one does nothing', async () => {
        const prefix = uniquePrefix();
        const collection = `${prefix}-drop`;
        await putAll(collection, [{ _id: 'a', k: '1' }]);
        await store.ensureIndex(collection, ['k']);

        await store.dropCollection(collection);
        await store.dropCollection(collection);

        expect(await store.listCollections(prefix)).to.deep.equal([]);
        expect(await store.get(collection, 'a')).to.equal(undefined);
        expect(await store.count(collection)).to.equal(0);
        await putAll(collection, [{ _id: 'b', k: '2' }]);
        expect(ids((await store.find(collection, { where: { k: '2' } })).items)).to.deep.equal(['b']);
      });

      it('renameCollection replaces the target with the source, which disappears', async () => {
        const prefix = uniquePrefix();
        const [live, rebuilt] = [`${prefix}-live`, `${prefix}-rebuilt`];
        await putAll(live, [{ _id: 'old1', k: 'x' }, { _id: 'old2', k: 'x' }, { _id: 'old3', k: 'y' }]);
        await store.ensureIndex(live, ['stale']);
        await putAll(rebuilt, [{ _id: 'new1', k: 'x' }, { _id: 'new2', k: 'y' }]);
        await store.ensureIndex(rebuilt, ['k']);
        const rebuiltChecksum = await store.checksum(rebuilt);

        await store.renameCollection(rebuilt, live);

        expect(await store.listCollections(prefix)).to.deep.equal([live]);
        expect(await store.checksum(live)).to.equal(rebuiltChecksum);
        expect(ids((await store.find(live, { where: { k: 'x' } })).items)).to.deep.equal(['new1']);
        expect(await store.get(rebuilt, 'new1')).to.equal(undefined);

        // The name is free again, indexes and all.
        await store.ensureIndex(rebuilt, ['k']);
        await putAll(rebuilt, [{ _id: 'again', k: 'x' }]);
        expect(ids((await store.find(rebuilt, { where: { k: 'x' } })).items)).to.deep.equal(['again']);
        expect(ids((await store.find(live, { where: { k: 'x' } })).items)).to.deep.equal(['new1']);
      });

      it('renameCollection never lets a reader see neither collection', async () => {
        const prefix = uniquePrefix();
        const [live, rebuilt] = [`${prefix}-live`, `${prefix}-rebuilt`];
        await putAll(live, Array.from({ length: 3 }, (_, i) => ({ _id: `old${i}` })));
        await putAll(rebuilt, Array.from({ length: 5 }, (_, i) => ({ _id: `new${i}` })));

        let renamed = false;
        const observed = new Set<number>();
        const reader = (async () => {
          while (!renamed) {
            observed.add(await store.count(live));
            await yieldToEventLoop();
          }
        })();
        await store.renameCollection(rebuilt, live);
        renamed = true;
        await reader;
        observed.add(await store.count(live));

        const counts = [...observed];
        expect(counts.every((n) => n === 3 || n === 5), `counts seen: ${counts.join(', ')}`).to.equal(true);
        expect(observed.has(5)).to.equal(true);
      });

      it('renameCollection refuses a missing source and a rename to itself, leaving the target as it was', async () => {
        const prefix = uniquePrefix();
        await putAll(`${prefix}-live`, [{ _id: 'a' }]);

        await expectInvalidArgument(store.renameCollection(`${prefix}-missing`, `${prefix}-live`), 'a missing source');
        await expectInvalidArgument(store.renameCollection(`${prefix}-live`, `${prefix}-live`), 'a rename to itself');
        expect(ids((await store.find(`${prefix}-live`)).items)).to.deep.equal(['a']);
      });
    });

    describe('checksum', () => {
      it('is SHA-256 over canonical JSON lines in _id order, so every adapter computes the same value', async () => {
        const collection = `${uniquePrefix()}-sum`;
        await putAll(collection, [
          { z: [1, { d: null, c: 'é' }], _id: 'b', a: true },
          { _id: 'a', n: -1.5, s: '10' },
        ]);
        const expected = sha256('{"_id":"a","n":-1.5,"s":"10"}\n{"_id":"b","a":true,"z":[1,{"c":"é","d":null}]}\n');

        expect(await store.checksum(collection)).to.equal(expected);
        expect(await store.checksum(`${uniquePrefix()}-missing`), 'a missing collection').to.equal(sha256(''));
      });

      it('is equal for equal contents written in different orders, and changes with any change', async () => {
        const prefix = uniquePrefix();
        const documents: Document[] = [
          { _id: 'x', amount: '100', tags: ['a', 'b'], meta: { one: 1, two: 2 } },
          { _id: 'y', amount: '-5', tags: [], meta: { two: 2, one: 1 } },
          { _id: 'w', amount: '0', flag: false },
        ];
        await putAll(`${prefix}-first`, documents);
        await putAll(
          `${prefix}-second`,
          [...documents].reverse().map((d) => Object.fromEntries(Object.entries(d).reverse()) as Document),
        );
        const original = await store.checksum(`${prefix}-first`);
        expect(await store.checksum(`${prefix}-second`)).to.equal(original);

        const changes: [string, (session: DocumentSession) => Promise<void>][] = [
          ['a changed value', (s) => s.put(`${prefix}-first`, { ...documents[0]!, amount: '101' })],
          ['a changed type', (s) => s.put(`${prefix}-first`, { ...documents[0]!, amount: 100 })],
          ['a reordered array', (s) => s.put(`${prefix}-first`, { ...documents[0]!, tags: ['b', 'a'] })],
          ['an added document', (s) => s.put(`${prefix}-first`, { _id: 'z' })],
          ['a deleted document', (s) => s.delete(`${prefix}-first`, 'w')],
        ];
        for (const [what, change] of changes) {
          await store.withTransaction(change);
          expect(await store.checksum(`${prefix}-first`), what).to.not.equal(original);
          await store.withTransaction(async (session) => {
            await session.delete(`${prefix}-first`, 'z');
            for (const document of documents) await session.put(`${prefix}-first`, document);
          });
          expect(await store.checksum(`${prefix}-first`), `restored after ${what}`).to.equal(original);
        }
      });
    });
  });
};
