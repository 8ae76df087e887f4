import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * A `.dockerignore` pattern as Docker matches it against a path of the build context: `**` spans
 * directories, `*` and `?` stay within one, and a pattern naming a directory takes all it holds.
 */
const patternExpression = (pattern: string): RegExp => {
  const source = pattern
    .replace(/^\/+|\/+$/g, '')
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) => {
      if (part === '**/') return '(?:.*/)?';
      if (part === '**') return '.*';
      if (part === '*') return '[^/]*';
      if (part === '?') return '[^/]';
      return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}(?:/.*)?$`);
};

/** Whether `docker build` leaves the path out of its context: the last pattern matching it decides (`!` keeps it). */
const leftOut = (path: string): boolean => {
  const rules = readFileSync(join(repositoryRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => ({ keeps: line.startsWith('!'), expression: patternExpression(line.replace(/^!/, '')) }));
  return rules.reduce((ignored, rule) => (rule.expression.test(path) ? !rule.keeps : ignored), false);
};

const filesUnder = (directory: string): string[] =>
  readdirSync(join(repositoryRoot, directory), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(repositoryRoot, join(entry.parentPath, entry.name)));

describe('the Docker build context (.dockerignore)', () => {
  it('leaves out the files an operator keeps secrets and data in, so no image carries them', () => {
    // Compose reads `.env` beside docker-compose.yml for FOLIO_BOOTSTRAP_ADMIN_KEY and FOLIO_AUDIT_SIGNING_KEY;
    // `COPY . .` would put it, and an embedded data directory with its generated signing key, in a layer.
    for (const path of ['.env', '.env.production', 'command-side/.env', 'data/audit-signing-key.pem', 'data/events.sqlite']) {
      expect(leftOut(path), path).to.equal(true);
    }
  });

  it('keeps everything the image builds from', () => {
    const needed = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.base.json',
      ...['shared', 'command-side', 'projections', 'query-side'].map((workspace) => `${workspace}/package.json`),
      ...['shared', 'command-side', 'projections', 'query-side', 'standalone'].flatMap((workspace) => [
        `${workspace}/tsconfig.json`,
        ...filesUnder(`${workspace}/src`),
      ]),
    ];
    expect(needed.filter(leftOut)).to.deep.equal([]);
  });
});
