import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, errors } from '@elastic/elasticsearch';
import type MockModule from '@elastic/elasticsearch-mock';
import type { MockPattern } from '@elastic/elasticsearch-mock';
import { expect } from 'chai';
import { sortableBigint } from '../../src/documents/documentStore.js';
import { NotFoundError } from '../../src/errors/commonErrors.js';
import { ValidationError } from '../../src/errors/folioError.js';
import { createElasticsearchSearchIndex } from '../../src/search/elasticsearchSearchIndex.js';
import type { SearchDocument, SearchIndex, SearchSchema } from '../../src/search/searchIndex.js';
import { openSqliteSearchIndex } from '../../src/search/sqliteSearchIndex.js';

/**
 * What the Elasticsearch adapter sends, checked without a server: the requests are answered by
 * `@elastic/elasticsearch-mock`, which hands each one over with its JSON body parsed.
 */

// The package is CommonJS with an `export default` typing, which an ES module's default import mistypes.
const Mock = createRequire(import.meta.url)('@elastic/elasticsearch-mock') as typeof MockModule.default;

const SCHEMA: SearchSchema = {
  fields: { description: 'text', account: 'keyword', status: 'keyword', amount: 'amount', at: 'date' },
};
const INDEX = 'tx-v1';
const MAX = 10n ** 18n - 1n;
const ABOVE_2_53 = 2n ** 53n + 1n;

type Responder = (request: MockPattern) => unknown;

const errorResponse = (statusCode: number, type: string): errors.ResponseError =>
  new errors.ResponseError({
    body: { error: { type, reason: `${type} (mocked)` }, status: statusCode },
    statusCode,
  } as ConstructorParameters<typeof errors.ResponseError>[0]);

const mappingOf = (index: string, schema: SearchSchema = SCHEMA) => ({
  [index]: { mappings: { _meta: { folio: { schema: schema.fields } }, dynamic: 'strict', properties: {} } },
});

/** A mocked cluster that records every request it answers. */
class FakeCluster {
  readonly requests: MockPattern[] = [];
  private readonly mock = new Mock();
  readonly client = new Client({ node: 'http://localhost:9200', Connection: this.mock.getConnection() });
  readonly index: SearchIndex = createElasticsearchSearchIndex({ client: this.client });

  on(method: string, path: string, respond: Responder): this {
    this.mock.add({ method, path }, (request) => {
      this.requests.push(request);
      return respond(request) as Record<string, unknown>;
    });
    return this;
  }

  withIndex(index = INDEX, schema: SearchSchema = SCHEMA): this {
    return this.on('GET', `/${index}/_mapping`, () => mappingOf(index, schema));
  }

  sent(method: string, path: string): MockPattern[] {
    return this.requests.filter((request) => request.method === method && request.path === path);
  }

  only(method: string, path: string): MockPattern {
    const matching = this.sent(method, path);
    expect(matching, `${method} ${path} requests`).to.have.length(1);
    return matching[0]!;
  }
}

const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
};

/** Every number anywhere in a parsed body, with its path: amounts and versions must not be among them. */
const numbersIn = (value: unknown, path = '$'): string[] => {
  if (typeof value === 'number') return [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => numbersIn(item, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => numbersIn(item, `${path}.${key}`));
  }
  return [];
};

const source = (id: string, version: bigint, fields: Record<string, unknown>) => ({ id, version: version.toString(), fields });

describe('Elasticsearch search index: requests', () => {
  describe('ensureIndex', () => {
    it('creates the index with an explicit strict mapping, folding analysis and the schema in _meta', async () => {
      const cluster = new FakeCluster()
        .on('GET', `/${INDEX}/_mapping`, () => errorResponse(404, 'index_not_found_exception'))
        .on('PUT', `/${INDEX}`, () => ({ acknowledged: true }));
      await cluster.index.ensureIndex(INDEX, SCHEMA);

      const { body } = cluster.only('PUT', `/${INDEX}`) as { body: Record<string, any> };
      const { mappings, settings } = body;
      expect(mappings.dynamic).to.equal('strict');
      expect(mappings._meta).to.deep.equal({ folio: { schema: SCHEMA.fields } });
      expect(mappings.properties.id).to.deep.equal({ type: 'keyword' });
      expect(mappings.properties.fields.properties).to.deep.equal({
        description: { type: 'text', analyzer: 'folio_text' },
        account: { type: 'keyword' },
        status: { type: 'keyword' },
        amount: { type: 'long' },
        at: { type: 'date', format: 'strict_date_optional_time' },
      });
      expect(mappings.properties.sortable.properties).to.deep.equal({ amount: { type: 'keyword' } });
      expect(mappings.properties.all_text).to.include({ type: 'text', analyzer: 'folio_text' });
      expect(mappings.properties.all_text.index_prefixes).to.be.an('object');
      const analyzer = settings.analysis.analyzer.folio_text;
      expect(analyzer.filter).to.include.members(['lowercase', 'asciifolding']);
      expect(settings.analysis.char_filter[analyzer.char_filter[0]].type).to.equal('pattern_replace');
    });

    it('cuts every token short of Lucene\'s 32766-byte term limit, beyond the longest a query word folds to', async () => {
      // A longer term fails its whole document (an "immense term"), and the bulk that carries it, at every retry.
      const cluster = new FakeCluster()
        .on('GET', `/${INDEX}/_mapping`, () => errorResponse(404, 'index_not_found_exception'))
        .on('PUT', `/${INDEX}`, () => ({ acknowledged: true }));
      await cluster.index.ensureIndex(INDEX, SCHEMA);
      const { analysis } = (cluster.only('PUT', `/${INDEX}`).body as { settings: { analysis: Record<string, any> } }).settings;
      const filters: string[] = analysis.analyzer.folio_text.filter;
      const last = analysis.filter?.[filters.at(-1)!];
      expect(last?.type).to.equal('truncate');
      // Lengths count UTF-16 units (at most 3 UTF-8 bytes each); a query word has at most 1000, and folding makes one at most 4.
      expect(3 * last.length).to.be.below(32766);
      expect(last.length).to.be.at.least(4 * 1000);
    });

    it('keeps a word with marks whole, as SQLite does: a Hindi or Thai word is found by its beginning, not with its vowel signs dropped', async () => {
      const cluster = new FakeCluster()
        .on('GET', `/${INDEX}/_mapping`, () => errorResponse(404, 'index_not_found_exception'))
        .on('PUT', `/${INDEX}`, () => ({ acknowledged: true }));
      await cluster.index.ensureIndex(INDEX, SCHEMA);
      const { analysis } = (cluster.only('PUT', `/${INDEX}`).body as { settings: { analysis: Record<string, any> } }).settings;
      const analyzer = analysis.analyzer.folio_text;
      // The analyzer's character filter and tokenizer replayed (Java and JavaScript agree on these Unicode classes).
      const stripped = new RegExp(analysis.char_filter[analyzer.char_filter[0]].pattern, 'gu');
      const split = new RegExp(analysis.tokenizer[analyzer.tokenizer].pattern, 'u');
      const tokens = (text: string) =>
        text.replace(stripped, '').split(split).filter((token) => token !== '').map((token) => token.toLowerCase());
      const finds = (query: string, text: string) => tokens(text).some((token) => token.startsWith(tokens(query)[0]!));
      // "Work done", "price", "eat rice"; "less" shares only their consonants.
      expect(finds('का', 'काम पूरा')).to.equal(true);
      expect(finds('कम', 'काम पूरा')).to.equal(false);
      expect(finds('कम', 'कीमत')).to.equal(false);
      expect(finds('กิน', 'กินข้าว')).to.equal(true);
      expect(finds('กน', 'กินข้าว')).to.equal(false);
    });

    it('accepts an existing index with the same schema and refuses one with another, creating nothing', async () => {
      const cluster = new FakeCluster().withIndex();
      await cluster.index.ensureIndex(INDEX, SCHEMA);
      const error = await rejectionOf(cluster.index.ensureIndex(INDEX, { fields: { ...SCHEMA.fields, extra: 'keyword' } }));
      expect(error).to.be.instanceOf(ValidationError);
      expect(cluster.sent('PUT', `/${INDEX}`)).to.deep.equal([]);
    });

    it('settles a race with another creator by comparing schemas', async () => {
      let created = false;
      const cluster = new FakeCluster()
        .on('GET', `/${INDEX}/_mapping`, () => (created ? mappingOf(INDEX) : errorResponse(404, 'index_not_found_exception')))
        .on('PUT', `/${INDEX}`, () => {
          created = true;
          return errorResponse(400, 'resource_already_exists_exception');
        });
      await cluster.index.ensureIndex(INDEX, SCHEMA);
      expect(cluster.sent('GET', `/${INDEX}/_mapping`)).to.have.length(2);
    });

    it('creates a loading index as any other, and finishing its load only checks that it exists', async () => {
      const bodies: unknown[] = [];
      for (const loading of [false, true]) {
        const cluster = new FakeCluster()
          .on('GET', `/${INDEX}/_mapping`, () => errorResponse(404, 'index_not_found_exception'))
          .on('PUT', `/${INDEX}`, () => ({ acknowledged: true }));
        await cluster.index.ensureIndex(INDEX, SCHEMA, { loading });
        bodies.push(cluster.only('PUT', `/${INDEX}`).body);
      }
      expect(bodies[1]).to.deep.equal(bodies[0]);
      const cluster = new FakeCluster().withIndex();
      await cluster.index.finishLoading(INDEX);
      expect(cluster.requests.map(({ method, path }) => `${method} ${path}`)).to.deep.equal([`GET /${INDEX}/_mapping`]);
    });
  });

  describe('upsert', () => {
    const documents: SearchDocument[] = [
      { id: 't1', version: 42n, fields: { status: 'PAID', amount: MAX, at: '2024-05-01T00:00:00Z', account: ['a', 'b'] } },
      { id: 't2', version: ABOVE_2_53, fields: { amount: ABOVE_2_53, description: 'Café' } },
    ];

    it('sends one bulk of external-version index actions, versions and amounts as strings', async () => {
      const cluster = new FakeCluster().withIndex().on('POST', '/_bulk', () => ({ errors: false, items: [] }));
      await cluster.index.upsert(INDEX, documents);

      const { body } = cluster.only('POST', '/_bulk');
      expect(body).to.deep.equal([
        { index: { _index: INDEX, _id: 't1', version: '42', version_type: 'external' } },
        {
          ...source('t1', 42n, { account: ['a', 'b'], amount: MAX.toString(), at: '2024-05-01T00:00:00Z', status: 'PAID' }),
          sortable: { amount: sortableBigint(MAX) },
        },
        { index: { _index: INDEX, _id: 't2', version: ABOVE_2_53.toString(), version_type: 'external' } },
        {
          ...source('t2', ABOVE_2_53, { amount: ABOVE_2_53.toString(), description: 'Café' }),
          sortable: { amount: sortableBigint(ABOVE_2_53) },
          all_text: 'Café',
        },
      ]);
      expect(numbersIn(body)).to.deep.equal([]);
    });

    it('indexes the words of every text field as a query splits them, composed (NFC), in all_text', async () => {
      const schema: SearchSchema = { fields: { description: 'text', reference: 'text', status: 'keyword' } };
      const cluster = new FakeCluster().withIndex(INDEX, schema).on('POST', '/_bulk', () => ({ errors: false, items: [] }));
      await cluster.index.upsert(INDEX, [
        // Metadata reaches the index as sent, so decomposed Hangul and kana (jamo, a combining voicing mark) do too.
        { id: 'k', version: 1n, fields: { description: '한국 결제 が'.normalize('NFD'), reference: ['INV\u{E000}42', 'gift\u{1FAE0}card'] } },
        { id: 'n', version: 1n, fields: { description: null, status: 'PAID' } },
      ]);
      const body = cluster.only('POST', '/_bulk').body as Record<string, unknown>[];
      expect(body[1]!.all_text).to.equal('한국 결제 が INV 42 gift card'.normalize('NFC'));
      expect(body[3]).to.not.have.property('all_text');
    });

    it('writes through an alias to the index it points at', async () => {
      const cluster = new FakeCluster()
        .on('GET', '/folio-tx/_mapping', () => mappingOf(INDEX))
        .on('POST', '/_bulk', () => ({ errors: false, items: [] }));
      await cluster.index.upsert('folio-tx', documents);
      const { body } = cluster.only('POST', '/_bulk') as { body: { index?: { _index: string } }[] };
      expect(body[0]!.index!._index).to.equal(INDEX);
    });

    it('ignores items refused with a 409 version conflict: they were already applied', async () => {
      const cluster = new FakeCluster().withIndex().on('POST', '/_bulk', () => ({
        errors: true,
        items: [
          {
            index: {
              _index: INDEX,
              _id: 't1',
              status: 409,
              error: { type: 'version_conflict_engine_exception', reason: 'current [42]' },
            },
          },
          { index: { _index: INDEX, _id: 't2', status: 201, result: 'created' } },
        ],
      }));
      await cluster.index.upsert(INDEX, documents);
    });

    it('throws on any other item error, naming the document and the reason', async () => {
      const cluster = new FakeCluster().withIndex().on('POST', '/_bulk', () => ({
        errors: true,
        items: [
          { index: { _index: INDEX, _id: 't1', status: 409, error: { type: 'version_conflict_engine_exception', reason: 'old' } } },
          { index: { _index: INDEX, _id: 't2', status: 400, error: { type: 'mapper_parsing_exception', reason: 'bad value' } } },
        ],
      }));
      const error = (await rejectionOf(cluster.index.upsert(INDEX, documents))) as Error;
      expect(error.message).to.include('t2').and.include('mapper_parsing_exception').and.include('1 document');
      expect(error.message).to.not.include('t1');
    });

    it('splits a large upsert into bulks of 500 documents', async () => {
      const cluster = new FakeCluster().withIndex().on('POST', '/_bulk', () => ({ errors: false, items: [] }));
      const many = Array.from({ length: 1001 }, (_, i) => ({ id: `d${i}`, version: 1n, fields: { status: 'PAID' } }));
      await cluster.index.upsert(INDEX, many);
      expect(cluster.sent('POST', '/_bulk').map(({ body }) => (body as unknown[]).length)).to.deep.equal([1000, 1000, 2]);
    });

    it('validates documents before sending anything', async () => {
      const cluster = new FakeCluster().withIndex().on('POST', '/_bulk', () => ({ errors: false, items: [] }));
      const error = await rejectionOf(cluster.index.upsert(INDEX, [{ id: 'x', version: 1n, fields: { amount: 5 as never } }]));
      expect(error).to.be.instanceOf(ValidationError);
      expect(cluster.sent('POST', '/_bulk')).to.deep.equal([]);
    });
  });

  describe('search', () => {
    const hits = [
      source('t3', 3n, { amount: MAX.toString(), status: 'PAID' }),
      source('t2', 2n, { amount: ABOVE_2_53.toString(), status: 'SETTLED' }),
      source('t1', 1n, { amount: ABOVE_2_53.toString(), status: 'PAID' }),
    ];

    const clusterAnswering = (sources: object[]) =>
      new FakeCluster().withIndex().on('POST', `/${INDEX}/_search`, () => ({
        hits: { hits: sources.map((_source) => ({ _index: INDEX, _source })) },
      }));

    it('sends a bool query: prefix words in must, terms and string-bounded ranges in filter', async () => {
      const cluster = clusterAnswering(hits);
      const result = await cluster.index.search(INDEX, {
        text: 'Café mun',
        equals: { status: ['PAID', 'SETTLED'], account: 'acc-1' },
        ranges: { amount: { gte: ABOVE_2_53, lte: MAX }, at: { gte: '2024-01-01T00:00:00Z' } },
        sort: { field: 'amount', direction: 'desc' },
        limit: 2,
      });

      const { body } = cluster.only('POST', `/${INDEX}/_search`) as { body: Record<string, unknown> };
      expect(body).to.deep.equal({
        size: 3,
        track_total_hits: false,
        _source: ['id', 'version', 'fields'],
        query: {
          bool: {
            must: [{ match_bool_prefix: { all_text: { query: 'Café' } } }, { match_bool_prefix: { all_text: { query: 'mun' } } }],
            filter: [
              { terms: { 'fields.status': ['PAID', 'SETTLED'] } },
              { terms: { 'fields.account': ['acc-1'] } },
              { range: { 'fields.amount': { gte: ABOVE_2_53.toString(), lte: MAX.toString() } } },
              { range: { 'fields.at': { gte: '2024-01-01T00:00:00.000Z' } } },
            ],
          },
        },
        sort: [{ 'sortable.amount': { order: 'desc', missing: '_last' } }, { id: { order: 'desc' } }],
      });
      expect(result.hits.map((hit) => [hit.id, hit.version, hit.fields.amount])).to.deep.equal([
        ['t3', 3n, MAX],
        ['t2', 2n, ABOVE_2_53],
      ]);
      expect(result.nextCursor).to.be.a('string');
    });

    it("continues after the cursor with search_after on the amount's sortable twin and the id", async () => {
      const cluster = clusterAnswering(hits);
      const sort = { field: 'amount', direction: 'desc' } as const;
      const first = await cluster.index.search(INDEX, { sort, limit: 2 });
      await cluster.index.search(INDEX, { sort, limit: 2, after: first.nextCursor! });

      const second = cluster.sent('POST', `/${INDEX}/_search`)[1]!.body as Record<string, unknown>;
      expect(second.search_after).to.deep.equal([sortableBigint(ABOVE_2_53), 't2']);
      expect(second.sort).to.deep.equal([{ 'sortable.amount': { order: 'desc', missing: '_last' } }, { id: { order: 'desc' } }]);
    });

    it('sorts dates by the date field and keywords by their smallest value', async () => {
      const cluster = clusterAnswering([
        source('a', 1n, { at: '2024-05-01T00:00:00.5Z', account: ['z', 'b'] }),
        source('b', 1n, { at: '2024-04-01T00:00:00Z', account: 'c' }),
      ]);
      const byDate = await cluster.index.search(INDEX, { sort: { field: 'at', direction: 'asc' }, limit: 1 });
      await cluster.index.search(INDEX, { sort: { field: 'at', direction: 'asc' }, limit: 1, after: byDate.nextCursor! });
      const byAccount = await cluster.index.search(INDEX, { sort: { field: 'account', direction: 'desc' }, limit: 1 });
      await cluster.index.search(INDEX, { sort: { field: 'account', direction: 'desc' }, limit: 1, after: byAccount.nextCursor! });

      const bodies = cluster.sent('POST', `/${INDEX}/_search`).map(({ body }) => body as Record<string, unknown>);
      expect(bodies[1]!.sort).to.deep.equal([{ 'fields.at': { order: 'asc', missing: '_first' } }, { id: { order: 'asc' } }]);
      expect(bodies[1]!.search_after).to.deep.equal([Date.parse('2024-05-01T00:00:00.5Z'), 'a']);
      expect(bodies[3]!.sort).to.deep.equal([
        { 'fields.account': { order: 'desc', missing: '_last', mode: 'min' } },
        { id: { order: 'desc' } },
      ]);
      expect(bodies[3]!.search_after).to.deep.equal(['b', 'a']);
    });

    it('after a document without the sort value, filters instead of search_after (which cannot carry a missing value)', async () => {
      const cluster = clusterAnswering([source('t2', 1n, { amount: '5' }), source('t1', 1n, {}), source('t0', 1n, {})]);
      const sort = { field: 'amount', direction: 'desc' } as const;
      const first = await cluster.index.search(INDEX, { sort, limit: 2 });
      await cluster.index.search(INDEX, { sort, limit: 2, after: first.nextCursor! });

      const second = cluster.sent('POST', `/${INDEX}/_search`)[1]!.body as { search_after?: unknown; query: unknown };
      expect(second.search_after).to.equal(undefined);
      expect(second.query).to.deep.equal({
        bool: {
          filter: [
            {
              bool: {
                must_not: [{ exists: { field: 'sortable.amount' } }],
                filter: [{ range: { id: { lt: 't1' } } }],
              },
            },
          ],
        },
      });
    });

    it('refuses an invalid query before sending it, naming the field', async () => {
      const cluster = clusterAnswering([]);
      const error = (await rejectionOf(cluster.index.search(INDEX, { equals: { nope: 'x' } }))) as Error;
      expect(error).to.be.instanceOf(ValidationError);
      expect(error.message).to.include('nope');
      expect(cluster.sent('POST', `/${INDEX}/_search`)).to.deep.equal([]);
    });

    it('refuses a page that some shards did not answer, rather than return it and a cursor past what they hold', async () => {
      const cluster = new FakeCluster().withIndex().on('POST', `/${INDEX}/_search`, () => ({
        timed_out: false,
        _shards: { total: 2, successful: 1, skipped: 0, failed: 1, failures: [{ shard: 1, index: INDEX, reason: { type: 'node_disconnected_exception', reason: 'gone' } }] },
        hits: { hits: hits.map((_source) => ({ _index: INDEX, _source })) },
      }));
      const error = (await rejectionOf(cluster.index.search(INDEX, { sort: { field: 'amount', direction: 'desc' }, limit: 2 }))) as Error;
      expect(error.message).to.include('1 of 2 shards').and.include('node_disconnected_exception');
      expect(cluster.only('POST', `/${INDEX}/_search`).querystring).to.include({ allow_partial_search_results: 'false' });
    });

    it('refuses a page cut short by a search timeout', async () => {
      const cluster = new FakeCluster().withIndex().on('POST', `/${INDEX}/_search`, () => ({
        timed_out: true,
        _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
        hits: { hits: hits.map((_source) => ({ _index: INDEX, _source })) },
      }));
      expect(((await rejectionOf(cluster.index.search(INDEX, {}))) as Error).message).to.include('timed out');
    });

    it('searches and reads through the alias it was given, so an alias swap followed by dropping the old index never fails a reader', async () => {
      // The alias was resolved to tx-v1 just before it moved to tx-v2 and tx-v1 was dropped.
      const cluster = new FakeCluster()
        .on('GET', '/folio-tx/_mapping', () => mappingOf(INDEX))
        .on('POST', `/${INDEX}/_search`, () => errorResponse(404, 'index_not_found_exception'))
        .on('GET', `/${INDEX}/_doc/t3`, () => errorResponse(404, 'index_not_found_exception'))
        .on('POST', '/folio-tx/_search', () => ({ hits: { hits: hits.map((_source) => ({ _index: 'tx-v2', _source })) } }))
        .on('GET', '/folio-tx/_doc/t3', () => ({ _index: 'tx-v2', _id: 't3', found: true, _version: 3, _source: hits[0] }));
      expect((await cluster.index.search('folio-tx', {})).hits.map((hit) => hit.id)).to.deep.equal(['t3', 't2', 't1']);
      expect((await cluster.index.get('folio-tx', 't3'))?.fields.amount).to.equal(MAX);
    });

    it('reports a missing index as NotFoundError', async () => {
      const cluster = new FakeCluster().on('GET', '/missing/_mapping', () => errorResponse(404, 'index_not_found_exception'));
      expect(await rejectionOf(cluster.index.search('missing', {}))).to.be.instanceOf(NotFoundError);
    });
  });

  describe('get', () => {
    it('reads the stored source back with exact bigints, and a missing document as undefined', async () => {
      const cluster = new FakeCluster()
        .withIndex()
        .on('GET', `/${INDEX}/_doc/t1`, () => ({
          _index: INDEX,
          _id: 't1',
          found: true,
          _version: 9,
          _source: source('t1', ABOVE_2_53, { amount: MAX.toString() }),
        }))
        .on('GET', `/${INDEX}/_doc/t2`, () => errorResponse(404, 'not_found'));
      expect(await cluster.index.get(INDEX, 't1')).to.deep.equal({ id: 't1', version: ABOVE_2_53, fields: { amount: MAX } });
      expect(await cluster.index.get(INDEX, 't2')).to.equal(undefined);
    });
  });

  describe('aliases', () => {
    it('moves an alias with one _aliases request: remove from the old index and add to the new', async () => {
      const cluster = new FakeCluster()
        .withIndex('tx-v2')
        .on('GET', '/_alias/folio-tx', () => ({ [INDEX]: { aliases: { 'folio-tx': {} } } }))
        .on('POST', '/_aliases', () => ({ acknowledged: true }));
      await cluster.index.setAlias('folio-tx', 'tx-v2');
      expect(cluster.only('POST', '/_aliases').body).to.deep.equal({
        actions: [
          { remove: { index: INDEX, alias: 'folio-tx', must_exist: true } },
          { add: { index: 'tx-v2', alias: 'folio-tx' } },
        ],
      });
    });

    it('creates a new alias with a single add', async () => {
      const cluster = new FakeCluster()
        .withIndex()
        .on('GET', '/_alias/folio-tx', () => errorResponse(404, 'aliases_not_found_exception'))
        .on('HEAD', '/folio-tx', () => errorResponse(404, 'index_not_found_exception'))
        .on('POST', '/_aliases', () => ({ acknowledged: true }));
      await cluster.index.setAlias('folio-tx', INDEX);
      expect(cluster.only('POST', '/_aliases').body).to.deep.equal({ actions: [{ add: { index: INDEX, alias: 'folio-tx' } }] });
    });

    it('resolves an alias, and drops the index behind an alias rather than the alias name', async () => {
      const cluster = new FakeCluster()
        .on('GET', '/_alias/folio-tx', () => ({ [INDEX]: { aliases: { 'folio-tx': {} } } }))
        .on('GET', '/folio-tx/_mapping', () => mappingOf(INDEX))
        .on('DELETE', `/${INDEX}`, () => ({ acknowledged: true }));
      expect(await cluster.index.resolveAlias('folio-tx')).to.equal(INDEX);
      await cluster.index.dropIndex('folio-tx');
      cluster.only('DELETE', `/${INDEX}`);
    });

    it('lists indexes by a wildcard on their names, tolerating none, and keeps only names with the prefix', async () => {
      // `tx*` also matches the alias `tx`, whose index the mapping answer names as itself.
      const cluster = new FakeCluster().on('GET', '/:pattern/_mapping', () => ({ ...mappingOf('tx-v2'), ...mappingOf('tx-v1'), ...mappingOf('other-v1') }));
      expect(await cluster.index.listIndexes('tx')).to.deep.equal(['tx-v1', 'tx-v2']);
      const [request] = cluster.requests;
      expect(cluster.requests).to.have.length(1);
      expect(decodeURIComponent(String(request!.path))).to.equal('/tx*/_mapping');
      expect(request!.querystring).to.include({ allow_no_indices: 'true', expand_wildcards: 'open' });
    });
  });

  describe('refresh', () => {
    it('fails when a shard did not refresh, since writes it holds stay invisible', async () => {
      const cluster = new FakeCluster().on('GET', `/${INDEX}/_refresh`, () => ({
        _shards: { total: 2, successful: 1, failed: 1, failures: [{ shard: 0, index: INDEX, reason: { type: 'engine_closed_exception', reason: 'closed' } }] },
      }));
      expect(((await rejectionOf(cluster.index.refresh(INDEX))) as Error).message).to.include('engine_closed_exception');
    });
  });

  describe('checksum', () => {
    let directory: string;

    before(() => {
      directory = mkdtempSync(join(tmpdir(), 'folio-search-requests-'));
    });

    after(() => {
      rmSync(directory, { recursive: true, force: true });
    });

    it('reads the index in id order through a point in time and hashes exactly as SQLite does', async () => {
      const documents: SearchDocument[] = [
        { id: 'a', version: 3n, fields: { description: 'Café', account: ['x', 'y'], amount: MAX, at: '2024-05-01T00:00:00Z' } },
        { id: 'b', version: ABOVE_2_53, fields: { status: 'PAID', amount: -1n } },
      ];
      const cluster = new FakeCluster()
        .withIndex()
        .on('GET', `/${INDEX}/_refresh`, () => ({}))
        .on('POST', `/${INDEX}/_pit`, () => ({ id: 'pit-1' }))
        .on('DELETE', '/_pit', () => ({ succeeded: true, num_freed: 1 }))
        .on('POST', '/_search', () => ({
          pit_id: 'pit-1',
          hits: {
            hits: [
              // Field order as a server might return it: the hash must not depend on it.
              {
                _source: {
                  fields: { at: '2024-05-01T00:00:00Z', amount: MAX.toString(), account: ['x', 'y'], description: 'Café' },
                  version: '3',
                  id: 'a',
                },
                sort: ['a', 0],
              },
              { _source: source('b', ABOVE_2_53, { status: 'PAID', amount: '-1' }), sort: ['b', 1] },
            ],
          },
        }));

      const embedded = openSqliteSearchIndex({ path: join(directory, 'search.db') });
      try {
        await embedded.ensureIndex(INDEX, SCHEMA);
        await embedded.upsert(INDEX, documents);
        expect(await cluster.index.checksum(INDEX)).to.equal(await embedded.checksum(INDEX));
      } finally {
        await embedded.close();
      }
      const { body } = cluster.only('POST', '/_search') as { body: Record<string, unknown> };
      expect(body.pit).to.deep.equal({ id: 'pit-1', keep_alive: '1m' });
      expect(body.sort).to.deep.equal([{ id: { order: 'asc' } }]);
      cluster.only('DELETE', '/_pit');
    });

    it('fails rather than hash an index that a shard did not refresh', async () => {
      const cluster = new FakeCluster()
        .withIndex()
        .on('GET', `/${INDEX}/_refresh`, () => ({
          _shards: { total: 2, successful: 1, failed: 1, failures: [{ shard: 0, reason: { type: 'engine_closed_exception' } }] },
        }));
      expect(((await rejectionOf(cluster.index.checksum(INDEX))) as Error).message).to.include('engine_closed_exception');
      expect(cluster.sent('POST', `/${INDEX}/_pit`)).to.deep.equal([]);
    });

    it('fails rather than hash a page that some shards did not answer', async () => {
      const cluster = new FakeCluster()
        .withIndex()
        .on('GET', `/${INDEX}/_refresh`, () => ({ _shards: { total: 1, successful: 1, failed: 0 } }))
        .on('POST', `/${INDEX}/_pit`, () => ({ id: 'pit-1' }))
        .on('DELETE', '/_pit', () => ({ succeeded: true, num_freed: 1 }))
        .on('POST', '/_search', () => ({
          pit_id: 'pit-1',
          timed_out: false,
          _shards: { total: 2, successful: 1, skipped: 0, failed: 1, failures: [{ shard: 1, reason: { type: 'no_shard_available_action_exception' } }] },
          hits: { hits: [{ _source: source('a', 1n, {}), sort: ['a', 0] }] },
        }));
      expect(((await rejectionOf(cluster.index.checksum(INDEX))) as Error).message).to.include('1 of 2 shards');
      cluster.only('DELETE', '/_pit');
      expect(cluster.only('POST', '/_search').querystring).to.include({ allow_partial_search_results: 'false' });
    });
  });
});
