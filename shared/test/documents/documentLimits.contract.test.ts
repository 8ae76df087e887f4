import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { BSON } from 'mongodb';
import type { Document, DocumentStore } from '../../src/documents/documentStore.js';
import {
  MAX_DOCUMENT_BYTES,
  MAX_DOCUMENT_DEPTH,
  MAX_KEY_BYTES,
  MAX_WHERE_BYTES,
  WHERE_BYTES_PER_FIELD,
  serializeDocument,
} from '../../src/documents/documentArguments.js';
import { createMongoDocumentStore } from '../../src/documents/mongoDocumentStore.js';
import { openSqliteDocumentStore } from '../../src/documents/sqliteDocumentStore.js';
import { InvalidArgumentError } from '../../src/eventStore/errors.js';
import { rejectionOf } from '../../src/testing/rejectionOf.js';

/**
 * The limits MongoDB sets on a document (16 MiB of BSON, 100 levels of nesting), and the port's
 * bound on ids, id prefixes and cursor values, hold on every adapter: what one adapter takes, the
 * other takes too.
 */


/** `{ _id, text }` whose size as the port counts it (BSON, `_id` counted twice) is exactly `bytes`. */
const documentOfSize = (id: string, bytes: number): Document => {
  const empty = { _id: id, text: '' };
  const overhead = BSON.calculateObjectSize(empty) + Buffer.byteLength(id, 'utf8');
  return { _id: id, text: 'x'.repeat(bytes - overhead) };
};

/** Whether `promise` fails with `InvalidArgumentError` naming `argument` and its size. */
const expectRefusal = async (promise: Promise<unknown>, argument: string, bytes: number): Promise<void> => {
  const failure = await rejectionOf(promise);
  expect(failure, argument).to.be.instanceOf(InvalidArgumentError);
  expect((failure as Error).message, argument).to.include(`${argument} takes ${bytes} bytes`);
};

/** A cursor as a client may forge one: `find`'s own, with its value and `_id` replaced. */
const forgedCursor = (cursor: string, value: string, id: string): string => {
  const [field, direction] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
  return Buffer.from(JSON.stringify([field, direction, value, id]), 'utf8').toString('base64url');
};

/** Strings equal without a diff of megabytes when they differ. */
const sameText = (actual: unknown, expected: string): boolean => actual === expected;

/** A document whose innermost member sits `levels` deep, the document being the first level. */
const nested = (id: string, levels: number, container: 'object' | 'array'): Document => {
  let value: unknown = 'bottom';
  for (let level = 1; level < levels; level++) value = container === 'object' ? { inner: value } : [value];
  return { _id: id, value } as Document;
};

/** The depth of a value as MongoDB counts it: a document or array is one level more than its members. */
const depthOf = (value: unknown): number =>
  value !== null && typeof value === 'object' ? 1 + Math.max(0, ...Object.values(value).map(depthOf)) : 0;

const describeLimits = (name: string, create: () => Promise<DocumentStore>): void => {
  describe(`document store limits: ${name}`, () => {
    let store: DocumentStore;
    const collection = (): string => `c${randomUUID().replaceAll('-', '').slice(0, 16)}-limits`;

    before(async () => {
      store = await create();
    });

    after(async () => {
      await store?.close();
    });

    it('takes a document of exactly the size limit and refuses one byte more, put or putMany, writing nothing', async () => {
      const target = collection();
      const largest = documentOfSize('largest', MAX_DOCUMENT_BYTES);
      await store.withTransaction((session) => session.put(target, largest));
      expect(await store.get(target, 'largest')).to.deep.equal(largest);

      const tooLarge = documentOfSize('too-large', MAX_DOCUMENT_BYTES + 1);
      for (const write of [
        store.withTransaction(async (session) => {
          await session.put(target, { _id: 'small' });
          await session.put(target, tooLarge);
        }),
        store.withTransaction((session) => session.putMany(target, [{ _id: 'small' }, tooLarge])),
      ]) {
        expect(await rejectionOf(write)).to.be.instanceOf(InvalidArgumentError);
      }
      expect(await store.count(target), 'nothing of the refused writes').to.equal(1);
    });

    it(`takes ${MAX_DOCUMENT_DEPTH} levels of objects or arrays and refuses one more, writing nothing`, async () => {
      const target = collection();
      for (const container of ['object', 'array'] as const) {
        const deepest = nested(`deepest-${container}`, MAX_DOCUMENT_DEPTH, container);
        expect(depthOf(deepest)).to.equal(MAX_DOCUMENT_DEPTH);
        await store.withTransaction((session) => session.put(target, deepest));
        expect(await store.get(target, deepest._id)).to.deep.equal(deepest);

        const tooDeep = nested(`too-deep-${container}`, MAX_DOCUMENT_DEPTH + 1, container);
        expect(depthOf(tooDeep)).to.equal(MAX_DOCUMENT_DEPTH + 1);
        expect(await rejectionOf(store.withTransaction((session) => session.put(target, tooDeep)))).to.be.instanceOf(
          InvalidArgumentError,
        );
        expect(
          await rejectionOf(store.withTransaction((session) => session.putMany(target, [{ _id: 'small' }, tooDeep]))),
        ).to.be.instanceOf(InvalidArgumentError);
      }
      // What is stored is the JSON text: a member whose `toJSON` nests deeper is measured by it.
      const deepJson = { _id: 'deep-json', value: { toJSON: () => nested('x', MAX_DOCUMENT_DEPTH, 'object') } } as unknown as Document;
      expect(await rejectionOf(store.withTransaction((session) => session.put(target, deepJson)))).to.be.instanceOf(
        InvalidArgumentError,
      );
      // Brackets inside strings, quotes escaped among them, are text: no nesting at all.
      const bracketsInText = {
        _id: 'brackets-in-text',
        text: `${'[{'.repeat(300)}"\\"${'{'.repeat(300)}`,
        list: ['"[', '\\'],
      };
      await store.withTransaction((session) => session.put(target, bracketsInText));
      expect(await store.get(target, bracketsInText._id)).to.deep.equal(bracketsInText);
      expect(await store.count(target), 'the two deepest documents and the text').to.equal(3);
    });

    it(`takes ids, id prefixes and cursor values of ${MAX_KEY_BYTES} bytes of UTF-8, wherever they are passed`, async () => {
      const target = collection();
      // Two bytes a character: the bound counts UTF-8, not characters.
      const longest = 'é'.repeat(MAX_KEY_BYTES / 2);
      await store.withTransaction(async (session) => {
        await session.put(target, { _id: longest, name: longest });
        await session.putMany(target, [{ _id: 'short', name: longest }]);
      });

      expect(sameText((await store.get(target, longest))?._id, longest)).to.equal(true);
      const many = await store.withTransaction((session) => session.getMany(target, ['short', longest]));
      expect(many.size).to.equal(2);
      const prefixed = await store.find(target, { idPrefix: longest });
      expect(sameText(prefixed.items[0]?._id, longest) && prefixed.items.length === 1).to.equal(true);
      expect(await store.count(target, { _id: longest })).to.equal(1);
      // Pages by `_id` and by a field, each cursor carrying a value of the largest size.
      const idDescending = { field: '_id', direction: 'desc' } as const;
      const byId = await store.find(target, { orderBy: idDescending, limit: 1 });
      expect(sameText(byId.items[0]?._id, longest)).to.equal(true);
      const nextById = await store.find(target, { orderBy: idDescending, limit: 1, after: byId.nextCursor });
      expect(nextById.items.map((document) => document._id)).to.deep.equal(['short']);
      const nameAscending = { field: 'name', direction: 'asc' } as const;
      const byName = await store.find(target, { orderBy: nameAscending, limit: 1 });
      expect(byName.items.map((document) => document._id)).to.deep.equal(['short']);
      const nextByName = await store.find(target, { orderBy: nameAscending, limit: 1, after: byName.nextCursor });
      expect(sameText(nextByName.items[0]?._id, longest) && nextByName.nextCursor === undefined).to.equal(true);

      await store.withTransaction((session) => session.delete(target, longest));
      expect(await store.count(target)).to.equal(1);
    });

    it('refuses an id, id prefix or cursor value one byte longer, naming it, before reading or writing anything', async () => {
      const target = collection();
      const tooLong = `${'é'.repeat(MAX_KEY_BYTES / 2)}x`;
      const bytes = MAX_KEY_BYTES + 1;
      const documents = [{ _id: 'a', name: 'a' }, { _id: 'b', name: 'b' }];
      await store.withTransaction((session) => session.putMany(target, documents));
      const nameAscending = { field: 'name', direction: 'asc' } as const;
      const { nextCursor: byId } = await store.find(target, { limit: 1 });
      const { nextCursor: byName } = await store.find(target, { orderBy: nameAscending, limit: 1 });

      await expectRefusal(store.get(target, tooLong), 'id', bytes);
      await expectRefusal(store.withTransaction((session) => session.get(target, tooLong)), 'id', bytes);
      await expectRefusal(store.withTransaction((session) => session.getMany(target, ['a', tooLong])), 'ids[1]', bytes);
      await expectRefusal(store.withTransaction((session) => session.delete(target, tooLong)), 'id', bytes);
      await expectRefusal(store.withTransaction((session) => session.put(target, { _id: tooLong })), '_id', bytes);
      await expectRefusal(
        store.withTransaction((session) => session.putMany(target, [{ _id: 'c' }, { _id: tooLong }])),
        '_id',
        bytes,
      );
      await expectRefusal(store.find(target, { idPrefix: tooLong }), 'idPrefix', bytes);
      await expectRefusal(store.find(target, { where: { _id: tooLong } }), 'where._id', bytes);
      await expectRefusal(store.count(target, { _id: tooLong }), 'where._id', bytes);
      const forgedId = forgedCursor(byId!, tooLong, tooLong);
      await expectRefusal(store.find(target, { limit: 1, after: forgedId }), 'after', bytes);
      const forgedName = forgedCursor(byName!, tooLong, 'a');
      await expectRefusal(store.find(target, { orderBy: nameAscending, limit: 1, after: forgedName }), 'after', bytes);
      expect(await store.count(target), 'nothing of the refused writes').to.equal(2);
    });

    it(`takes a where of ${MAX_WHERE_BYTES} bytes and refuses one byte more, long values or many fields, before reading anything`, async () => {
      const target = collection();
      await store.withTransaction((session) => session.putMany(target, [{ _id: 'a', name: 'a' }]));
      // Two bytes a character, as the bound counts UTF-8; the field's name and its share of the filter count too.
      const filling = MAX_WHERE_BYTES - WHERE_BYTES_PER_FIELD - 'name'.length;
      const largest = { name: 'é'.repeat(filling / 2) };
      expect((await store.find(target, { where: largest })).items).to.deep.equal([]);
      expect(await store.count(target, largest)).to.equal(0);

      const tooLarge = { name: `${largest.name}x` };
      await expectRefusal(store.find(target, { where: tooLarge }), 'where', MAX_WHERE_BYTES + 1);
      await expectRefusal(store.count(target, tooLarge), 'where', MAX_WHERE_BYTES + 1);
      // Short values, but so many fields that the filter outgrows the bound all the same.
      // Each a name of 7 bytes and a number, which counts 8 as BSON's double does.
      const perField = WHERE_BYTES_PER_FIELD + 7 + 8;
      const fields = Math.floor(MAX_WHERE_BYTES / perField) + 1;
      const many = Object.fromEntries(Array.from({ length: fields }, (_, n) => [`f${String(n).padStart(6, '0')}`, n]));
      const manyBytes = fields * perField;
      await expectRefusal(store.find(target, { where: many }), 'where', manyBytes);
      await expectRefusal(store.count(target, many), 'where', manyBytes);
    });

    it('refuses to page past a document whose orderBy value is longer than a cursor may carry', async () => {
      const target = collection();
      const tooLong = `${'é'.repeat(MAX_KEY_BYTES / 2)}x`;
      const documents = [{ _id: 'a', name: tooLong }, { _id: 'b', name: 'b' }];
      await store.withTransaction((session) => session.putMany(target, documents));
      const orderBy = { field: 'name', direction: 'desc' } as const;
      const argument = "orderBy field name of the page's last document";
      await expectRefusal(store.find(target, { orderBy, limit: 1 }), argument, MAX_KEY_BYTES + 1);
      // The last of its page, it needs no cursor.
      const all = await store.find(target, { orderBy, limit: 2 });
      expect(all.items.map((document) => document._id)).to.deep.equal(['a', 'b']);
    });

    it('refuses a _bsontype field, which MongoDB would take for a value of its own', async () => {
      const target = collection();
      const documents: Document[] = [
        { _id: 'top', _bsontype: 'ObjectId' },
        { _id: 'nested', metadata: { _bsontype: 'card', number: 7 } },
        { _id: 'in-array', items: [{ _bsontype: 1 }] },
      ];
      for (const document of documents) {
        expect(await rejectionOf(store.withTransaction((session) => session.put(target, document)))).to.be.instanceOf(
          InvalidArgumentError,
        );
      }
      expect(await store.count(target)).to.equal(0);
    });
  });
};

const directory = mkdtempSync(join(tmpdir(), 'folio-documents-limits-'));
after(() => {
  rmSync(directory, { recursive: true, force: true });
});

describeLimits('sqlite', async () => openSqliteDocumentStore({ path: join(directory, 'documents.db') }));

const url = process.env.MONGO_URL;
if (url) {
  const database = `folio_limits_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  describeLimits('mongodb', async () => createMongoDocumentStore({ url, database }));
}

describe('document size as the port counts it', () => {
  /** Values of every JSON kind, numbers of every BSON width, keys and text beyond ASCII. */
  const samples: Document[] = [
    { _id: 'scalars', int: 7, negative: -(2 ** 31), wide: 2 ** 31, fraction: 0.5, huge: 1e300, yes: true, none: null },
    { _id: 'ünïcødé 🙂', 'clé 🔑': 'texte 🙂 ünïcødé', nested: { deeper: [1, 'two', { three: [] }] } },
    { _id: 'array', items: Array.from({ length: 1200 }, (_, n) => (n % 3 === 0 ? n : n % 3 === 1 ? `${n}` : { n })) },
  ];

  it('is the BSON size MongoDB measures, plus the _id once more, whatever the values', () => {
    for (const sample of samples) {
      const bytes = BSON.calculateObjectSize(sample) + Buffer.byteLength(sample._id, 'utf8');
      // Padding the sample to exactly the limit: taken; one byte more: refused.
      const padding = 'p'.repeat(MAX_DOCUMENT_BYTES - bytes - BSON.calculateObjectSize({ padding: '' }) + 5);
      const atLimit = { ...sample, padding };
      expect(BSON.calculateObjectSize(atLimit) + Buffer.byteLength(sample._id, 'utf8')).to.equal(MAX_DOCUMENT_BYTES);
      expect(() => serializeDocument(atLimit), sample._id).not.to.throw();
      expect(() => serializeDocument({ ...atLimit, padding: `${padding}p` }), sample._id).to.throw(InvalidArgumentError);
    }
  });

  it('leaves room for the statement that carries the largest document to MongoDB, whatever its _id', () => {
    for (const id of ['a', 'é'.repeat(4000), 'x'.repeat(1024 * 1024)]) {
      const largest = documentOfSize(id, MAX_DOCUMENT_BYTES);
      expect(() => serializeDocument(largest)).not.to.throw();
      // What the driver builds for a `replaceOne` of `putMany`, and refuses at 16 MiB or more.
      const statement = { q: { _id: id }, u: largest, upsert: true };
      expect(BSON.calculateObjectSize(statement)).to.be.below(16 * 1024 * 1024);
    }
  });
});
