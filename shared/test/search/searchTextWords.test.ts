import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ValidationError } from '../../src/errors/folioError.js';
import type { SearchIndex } from '../../src/search/searchIndex.js';
import { searchTextWords } from '../../src/search/searchQueries.js';
import { openSqliteSearchIndex } from '../../src/search/sqliteSearchIndex.js';

/** A caller checks a search text with it before an index exists, so it must refuse as an index does. */
describe('search text words', () => {
  let directory: string;
  let index: SearchIndex;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'folio-search-text-'));
    index = openSqliteSearchIndex({ path: join(directory, 'search.sqlite') });
    await index.ensureIndex('tx', { fields: { description: 'text', account: 'keyword' } });
  });

  after(async () => {
    await index.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const refusalOf = (attempt: () => unknown): Promise<unknown> =>
    Promise.resolve()
      .then(attempt)
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );

  it('refuses every text an index refuses whatever its schema, with the same error', async () => {
    const texts: unknown[] = ['#', ' ?! ', '\u0301', 'a'.repeat(1001), Array.from({ length: 33 }, (_, i) => `w${i}`).join(' '), 42];
    for (const text of texts) {
      const checked = await refusalOf(() => searchTextWords(text));
      const searched = await refusalOf(() => index.search('tx', { text: text as string }));
      expect(checked, String(text)).to.be.instanceOf(ValidationError);
      expect((checked as ValidationError).issues, String(text)).to.deep.equal((searched as ValidationError).issues);
      expect((checked as ValidationError).issues[0]!.path).to.equal('text');
    }
  });

  it('gives the words of a text an index accepts, and none for an empty one or one of spaces', () => {
    expect(searchTextWords('Rent, März 2026')).to.deep.equal(['Rent', 'März', '2026']);
    expect(searchTextWords('')).to.deep.equal([]);
    expect(searchTextWords(' \t ')).to.deep.equal([]);
  });
});
