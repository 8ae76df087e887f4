import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, errors } from '@elastic/elasticsearch';
import type MockModule from '@elastic/elasticsearch-mock';
import type { MockPattern } from '@elastic/elasticsearch-mock';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { sortableBigint } from '../../src/documents/documentStore.js';
import { NotFoundError } from '../../src/errors/commonErrors.js';
import { ValidationError } from '../../src/errors/folioError.js';
import { StoreUnavailableError } from '../../src/eventStore/errors.js';
import { toProblem } from '../../src/http/problemDetails.js';
import { createElasticsearchSearchIndex } from '../../src/search/elasticsearchSearchIndex.js';
import type { SearchDocument, SearchIndex, SearchSchema } from '../../src/search/searchIndex.js';
import { openSqliteSearchIndex } from '../../src/search/sqliteSearchIndex.js';
import { rejectionOf } from '../../src/testing/rejectionOf.js';

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


type Analysis = Record<'analyzer' | 'char_filter' | 'tokenizer' | 'filter', Record<string, any>>;

/** The analysis an index is created with, as sent. */
const analysisSent = async (): Promise<Analysis> => {
  const cluster = new FakeCluster()
    .on('GET', `/${INDEX}/_mapping`, () => errorResponse(404, 'index_not_found_exception'))
    .on('PUT', `/${INDEX}`, () => ({ acknowledged: true }));
  await cluster.index.ensureIndex(INDEX, SCHEMA);
  return (cluster.only('PUT', `/${INDEX}`).body as { settings: { analysis: Analysis } }).settings.analysis;
};

const unescapeRule = (text: string): string =>
  text.trim().replace(/\\u([0-9a-fA-F]{4})/g, (_, unit: string) => String.fromCharCode(Number.parseInt(unit, 16)));

/**
 * The text analyzer replayed from the analysis sent (Java and JavaScript agree on the Unicode
 * classes of its tokenizer). It knows only the parts whose behaviour is spelled out in the
 * settings: any other (Lucene's `lowercase`, `asciifolding`) folds by tables of its own, which
 * this replay, and so the checks against the embedded index, cannot see.
 */
const replayedAnalyzer = (analysis: Analysis): ((text: string) => string[]) => {
  const analyzer = analysis.analyzer.folio_text;
  const charFilters = (analyzer.char_filter as string[]).map((name) => {
    const filter = analysis.char_filter[name];
    if (filter.type !== 'mapping') throw new Error(`no replay of the character filter ${name} (${filter.type})`);
    const rules = new Map(
      (filter.mappings as string[]).map((rule) => {
        const [, from, to] = /^(.*)\s*=>\s*(.*)\s*$/.exec(rule)!;
        return [unescapeRule(from!), unescapeRule(to!)];
      }),
    );
    const longest = Math.max(...[...rules.keys()].map((key) => key.length));
    return (text: string): string => {
      let out = '';
      for (let at = 0; at < text.length; ) {
        const length = [...Array(longest).keys()].map((n) => longest - n).find((n) => rules.has(text.slice(at, at + n)));
        out += length === undefined ? text[at] : rules.get(text.slice(at, at + length));
        at += length ?? 1;
      }
      return out;
    };
  });
  const tokenizer = analysis.tokenizer[analyzer.tokenizer];
  expect(tokenizer.type).to.equal('pattern');
  const split = new RegExp(tokenizer.pattern, 'u');
  const filters = (analyzer.filter as string[]).map((name) => {
    const filter = analysis.filter[name];
    if (filter?.type !== 'truncate') throw new Error(`no replay of the token filter ${name}`);
    return (token: string) => token.slice(0, filter.length as number);
  });
  return (text) =>
    charFilters
      .reduce((folded, filter) => filter(folded), text)
      .split(split)
      .filter((token) => token !== '')
      .map((token) => filters.reduce((cut, filter) => filter(cut), token));
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
      expect(replayedAnalyzer(settings.analysis)('Café CAFE déjà-vu')).to.deep.equal(['cafe', 'cafe', 'deja', 'vu']);
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
      // Lengths count UTF-16 units (at most 3 UTF-8 bytes each); a query word has at most 1000, which folding never lengthens.
      expect(3 * last.length).to.be.below(32766);
      expect(last.length).to.be.at.least(1000);
    });

    it('keeps a word with marks whole, as SQLite does: a Hindi or Thai word is found by its beginning, not with its vowel signs dropped', async () => {
      const tokens = replayedAnalyzer(await analysisSent());
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

  describe('text analysis', () => {
    let directory: string;

    before(() => {
      directory = mkdtempSync(join(tmpdir(), 'folio-search-analysis-'));
    });

    after(() => {
      rmSync(directory, { recursive: true, force: true });
    });

    /** The tokenizer of the embedded index's full-text table, as the table declares it. */
    const embeddedTokenizer = async (): Promise<string> => {
      const path = join(directory, `tokenizer-${randomUUID()}.db`);
      const embedded = openSqliteSearchIndex({ path });
      await embedded.ensureIndex(INDEX, SCHEMA);
      await embedded.close();
      const db = new Database(path, { readonly: true });
      try {
        const declared = db.prepare<[], string>("SELECT sql FROM sqlite_schema WHERE sql LIKE '%USING fts5%'").pluck().get()!;
        return /tokenize\s*=\s*("[^"]*"|'[^']*')/.exec(declared)![1]!;
      } finally {
        db.close();
      }
    };

    it('folds every letter, digit and mark exactly as the embedded index does, so a query finds the same words on both', async () => {
      const analyze = replayedAnalyzer(await analysisSent());
      const db = new Database(':memory:');
      try {
        // Positions are kept here (FTS5's default, detail=full) so each probe word's token is read back in order.
        db.exec(`CREATE VIRTUAL TABLE probe USING fts5(words, tokenize=${await embeddedTokenizer()})`);
        db.exec('CREATE VIRTUAL TABLE probe_tokens USING fts5vocab(probe, instance)');
        const wordCharacter = /^[\p{L}\p{N}\p{M}]$/u;
        const characters: string[] = [];
        for (let codePoint = 0; codePoint <= 0x10ffff; codePoint++) {
          if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
          const character = String.fromCodePoint(codePoint);
          if (wordCharacter.test(character)) characters.push(character);
        }
        // Each character between two letters that fold to themselves: "x" + character + "x" is one word on both sides.
        const PER_ROW = 1000;
        const insert = db.prepare<[number, string]>('INSERT INTO probe (rowid, words) VALUES (?, ?)');
        db.transaction(() => {
          for (let row = 0; row * PER_ROW < characters.length; row++) {
            insert.run(row, characters.slice(row * PER_ROW, (row + 1) * PER_ROW).map((character) => `x${character}x`).join(' '));
          }
        })();
        const embeddedTokens: string[] = db
          .prepare<[], string>('SELECT term FROM probe_tokens ORDER BY doc, "offset"')
          .pluck()
          .all();
        expect(embeddedTokens).to.have.length(characters.length);
        const differences = characters
          .map((character, at) => ({ character, embedded: [embeddedTokens[at]], elasticsearch: analyze(`x${character}x`) }))
          .filter(({ embedded, elasticsearch }) => JSON.stringify(embedded) !== JSON.stringify(elasticsearch))
          .map(({ character, embedded, elasticsearch }) => {
            const codePoint = `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
            return `${codePoint}: ${JSON.stringify(embedded)} embedded, ${JSON.stringify(elasticsearch)} Elasticsearch`;
          });
        expect(differences.slice(0, 20), `${differences.length} characters fold differently`).to.deep.equal([]);
      } finally {
        db.close();
      }
    });

    it('finds what the embedded index finds: "strasse" not "Straße", "lodz" not "Łódź", "1" not "①", "λογος" the capitals "ΛΟΓΟΣ"', async () => {
      const cases: [query: string, text: string, found: boolean][] = [
        ['cafe', 'Café', true],
        ['straß', 'STRASSE Straße', true],
        ['strasse', 'Straße', false],
        ['łodz', 'Łódź', true],
        ['lodz', 'Łódź', false],
        ['aero', 'Ærø', false],
        ['oeuvre', 'Œuvre', false],
        ['fjord', 'Fjørd', false],
        ['istanbul', 'ıstanbul', false],
        ['1', '①', false],
        ['x2', 'x²', false],
        ['ab', 'ＡＢ', false],
        ['λογος', 'ΛΟΓΟΣ', true],
        ['μs', 'µs', true],
      ];
      const analyze = replayedAnalyzer(await analysisSent());
      const elasticsearchFinds = (query: string, text: string) =>
        analyze(query).every((word) => analyze(text).some((token) => token.startsWith(word)));
      const embedded = openSqliteSearchIndex({ path: join(directory, 'cases.db') });
      try {
        const schema: SearchSchema = { fields: { description: 'text' } };
        await embedded.ensureIndex(INDEX, schema);
        await embedded.upsert(
          INDEX,
          cases.map(([, text], at) => ({ id: `d${at}`, version: 1n, fields: { description: text } })),
        );
        await embedded.refresh(INDEX);
        for (const [at, [query, text, found]] of cases.entries()) {
          const { hits } = await embedded.search(INDEX, { text: query });
          const embeddedFinds = hits.some((hit) => hit.id === `d${at}`);
          const answers = [embeddedFinds, elasticsearchFinds(query, text)];
          expect(answers, `"${query}" in "${text}": embedded, Elasticsearch`).to.deep.equal([found, found]);
        }
      } finally {
        await embedded.close();
      }
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

    it('reports a write to an index dropped since its schema was read as NotFoundError, not as a partial failure', async () => {
      // With `action.auto_create_index` off, the bulk refuses each item instead of creating the index with dynamic mappings.
      const cluster = new FakeCluster().withIndex().on('POST', '/_bulk', () => ({
        errors: true,
        items: ['t1', 't2'].map((_id) => ({
          index: {
            _index: INDEX,
            _id,
            status: 404,
            error: { type: 'index_not_found_exception', reason: `no such index [${INDEX}]`, index: INDEX },
          },
        })),
      }));
      const error = await rejectionOf(cluster.index.upsert(INDEX, documents));
      expect(error).to.be.instanceOf(NotFoundError);
      expect((error as NotFoundError).id).to.equal(INDEX);
    });

    it('refuses to use an index that has no Folio schema (one a write created with dynamic mappings), naming the cure', async () => {
      const cluster = new FakeCluster()
        .on('GET', `/${INDEX}/_mapping`, () => ({ [INDEX]: { mappings: { properties: { id: { type: 'text' } } } } }))
        .on('POST', '/_bulk', () => ({ errors: false, items: [] }))
        .on('POST', `/${INDEX}/_search`, () => ({ hits: { hits: [] } }));
      for (const attempt of [cluster.index.upsert(INDEX, documents), cluster.index.search(INDEX, {}), cluster.index.ensureIndex(INDEX, SCHEMA)]) {
        const error = (await rejectionOf(attempt)) as Error;
        expect(error.message).to.include(INDEX).and.include('not created by Folio').and.include('drop');
      }
      expect(cluster.sent('POST', '/_bulk')).to.deep.equal([]);
      expect(cluster.sent('POST', `/${INDEX}/_search`)).to.deep.equal([]);
    });

    it('sends again, after a pause, only the items Elasticsearch rejected as overloaded (429)', async () => {
      let bulks = 0;
      const cluster = new FakeCluster().withIndex().on('POST', '/_bulk', () => {
        bulks += 1;
        if (bulks === 1) return errorResponse(429, 'circuit_breaking_exception');
        if (bulks === 2) {
          return {
            errors: true,
            items: [
              { index: { _index: INDEX, _id: 't1', status: 201, result: 'created' } },
              { index: { _index: INDEX, _id: 't2', status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } },
            ],
          };
        }
        return { errors: false, items: [{ index: { _index: INDEX, _id: 't2', status: 201, result: 'created' } }] };
      });
      await cluster.index.upsert(INDEX, documents);
      const ids = cluster.sent('POST', '/_bulk').map(({ body }) =>
        (body as { index?: { _id: string } }[]).flatMap((line) => (line.index === undefined ? [] : [line.index._id])),
      );
      expect(ids).to.deep.equal([['t1', 't2'], ['t1', 't2'], ['t2']]);
    });

    it('gives up on items Elasticsearch keeps rejecting as overloaded, naming them', async () => {
      const cluster = new FakeCluster().withIndex().on('POST', '/_bulk', ({ body }) => ({
        errors: true,
        items: (body as { index?: { _id: string } }[]).flatMap(({ index }): object[] =>
          index === undefined
            ? []
            : index._id === 't1'
              ? [{ index: { _index: INDEX, _id: 't1', status: 201, result: 'created' } }]
              : [{ index: { _index: INDEX, _id: index._id, status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } }],
        ),
      }));
      const error = (await rejectionOf(cluster.index.upsert(INDEX, documents))) as Error;
      expect(error.message).to.include('t2').and.include('es_rejected_execution_exception');
      expect(cluster.sent('POST', '/_bulk').length).to.be.within(3, 6);
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

    it('refuses text with no letter or digit before sending it, and sends no text condition for text of spaces only', async () => {
      const cluster = clusterAnswering([]);
      for (const text of ['\u{1F600}', '#', '--']) {
        const error = (await rejectionOf(cluster.index.search(INDEX, { text }))) as Error;
        expect(error, text).to.be.instanceOf(ValidationError);
        expect(error.message, text).to.include('text: holds no letter or digit');
      }
      expect(cluster.sent('POST', `/${INDEX}/_search`)).to.deep.equal([]);

      await cluster.index.search(INDEX, { text: '  ' });
      const { body } = cluster.only('POST', `/${INDEX}/_search`) as { body: Record<string, unknown> };
      expect(body.query).to.deep.equal({ bool: {} });
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

    it('reports an index dropped after its schema was read as NotFoundError, to a search, a read and a checksum', async () => {
      const cluster = new FakeCluster()
        .withIndex()
        .on('POST', `/${INDEX}/_search`, () => errorResponse(404, 'index_not_found_exception'))
        .on('GET', `/${INDEX}/_doc/t1`, () => errorResponse(404, 'index_not_found_exception'))
        .on('GET', `/${INDEX}/_refresh`, () => ({ _shards: { total: 1, successful: 1, failed: 0 } }))
        .on('POST', `/${INDEX}/_pit`, () => errorResponse(404, 'index_not_found_exception'));
      for (const attempt of [cluster.index.search(INDEX, {}), cluster.index.get(INDEX, 't1'), cluster.index.checksum(INDEX)]) {
        const error = await rejectionOf(attempt);
        expect(error).to.be.instanceOf(NotFoundError);
        expect((error as NotFoundError).id).to.equal(INDEX);
      }
    });
  });

  describe('timeouts', () => {
    it('fails a request that a node leaves unanswered after the request timeout, instead of holding its caller', async () => {
      const silent = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as AddressInfo;
      const index = createElasticsearchSearchIndex({ node: `http://127.0.0.1:${port}`, requestTimeoutMs: 200 });
      try {
        const started = Date.now();
        const error = await rejectionOf(index.search(INDEX, {}));
        expect(error).to.be.instanceOf(StoreUnavailableError);
        expect((error as Error).cause).to.be.instanceOf(errors.TimeoutError);
        expect(Date.now() - started).to.be.below(5000);
      } finally {
        await index.close();
        silent.closeAllConnections();
        await new Promise((resolve) => silent.close(resolve));
      }
    });
    it('reports a node that refuses connections, or a cluster that cannot answer now, as unavailable; a bad request as it is', async () => {
      const closed = createServer(() => undefined);
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      const refused = createElasticsearchSearchIndex({ node: `http://127.0.0.1:${port}`, requestTimeoutMs: 2_000 });
      try {
        const error = await rejectionOf(refused.search(INDEX, {}));
        expect(error).to.be.instanceOf(StoreUnavailableError);
        expect((error as Error).cause).to.be.instanceOf(errors.ConnectionError);
      } finally {
        await refused.close();
      }
      for (const [statusCode, unavailable] of [[503, true], [504, true], [400, false]] as const) {
        const cluster = new FakeCluster().withIndex().on('POST', `/${INDEX}/_search`, () => errorResponse(statusCode, 'some_exception'));
        const error = await rejectionOf(cluster.index.search(INDEX, {}));
        if (unavailable) expect(error, String(statusCode)).to.be.instanceOf(StoreUnavailableError);
        else expect(error, String(statusCode)).to.be.instanceOf(errors.ResponseError).and.not.be.instanceOf(StoreUnavailableError);
      }
    });

    it('answers an unreachable node without the password of the URL the client quoted', async () => {
      const cluster = new FakeCluster()
        .withIndex()
        .on('POST', `/${INDEX}/_search`, () => new errors.ConnectionError('no answer from https://elastic:s3cret@es.internal:9200/'));
      const error = await rejectionOf(cluster.index.search(INDEX, {}));
      expect(error).to.be.instanceOf(StoreUnavailableError);
      const { detail } = toProblem(error, '/v1/transactions');
      expect(detail).to.contain('https://elastic:[redacted]@es.internal:9200').and.not.contain('s3cret');
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
        // How Elasticsearch answers for a document it does not hold: 404, and no error in the body.
        .on('GET', `/${INDEX}/_doc/t2`, () =>
          new errors.ResponseError({
            body: { _index: INDEX, _id: 't2', found: false },
            statusCode: 404,
          } as ConstructorParameters<typeof errors.ResponseError>[0]),
        );
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
      expect(request!.querystring).to.include({ allow_no_indices: 'true', expand_wildcards: 'open,closed' });
    });

    it('lists closed indexes too, which a wildcard matches only when asked to expand to closed ones', async () => {
      // As Elasticsearch answers: `expand_wildcards` defaults to open, leaving an index an operator closed out.
      const cluster = new FakeCluster().on('GET', '/:pattern/_mapping', (request) => {
        const states = String(request.querystring?.expand_wildcards ?? 'open').split(',');
        const expandsClosed = states.includes('closed') || states.includes('all');
        return { ...mappingOf('tx-v2'), ...(expandsClosed ? mappingOf('tx-v1') : {}) };
      });
      expect(await cluster.index.listIndexes('tx-v')).to.deep.equal(['tx-v1', 'tx-v2']);
      // Not `all`, which brings hidden (system) indexes along.
      expect(cluster.requests).to.have.length(1);
      expect(cluster.requests[0]!.querystring).to.include({ expand_wildcards: 'open,closed' });
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
