import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';

const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const WORKDIR = '/folio/';

/** The Dockerfile's instructions by stage, continuation lines joined and comments dropped. */
const stages = (): string[][] => {
  const instructions = readFileSync(join(repositoryRoot, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return instructions.reduce<string[][]>((all, instruction) => {
    if (/^FROM\s/i.test(instruction)) all.push([]);
    all.at(-1)?.push(instruction);
    return all;
  }, []);
};

/** The paths, relative to the build stage's working directory, that the final stage copies from it. */
const copiedFromBuild = (): string[] =>
  stages()
    .at(-1)!
    .filter((instruction) => /^COPY\s+--from=build\s/i.test(instruction))
    .flatMap((instruction) => {
      const sources = instruction.split(/\s+/).slice(1, -1).filter((word) => !word.startsWith('--'));
      return sources.map((source) => relative(WORKDIR, source.startsWith('/') ? source : join(WORKDIR, source)));
    });

/** Paths the build stage deletes with `rm -r` once built, so the final stage never sees them. */
const removedInBuild = (): string[] =>
  stages()
    .slice(0, -1)
    .flat()
    .flatMap((instruction) => [...instruction.matchAll(/\brm\s+-r[f]?\s+([^&;]+)/g)].flatMap(([, paths]) => paths!.trim().split(/\s+/)));

const isNodeModules = (path: string): boolean => path.split('/').includes('node_modules');
/** Whether the path lies in the directory; '' is the whole build context. */
const within = (path: string, directory: string): boolean =>
  directory === '' || path === directory || path.startsWith(`${directory}/`);

const filesUnder = (path: string): string[] => {
  const absolute = join(repositoryRoot, path);
  if (!existsSync(absolute)) return [];
  if (statSync(absolute).isFile()) return [path];
  return readdirSync(absolute, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(repositoryRoot, join(entry.parentPath, entry.name)))
    .filter((file) => !isNodeModules(file));
};

/** The image's files outside node_modules, as the built repository holds them. */
const imageFiles = (): string[] => {
  const removed = removedInBuild();
  return copiedFromBuild()
    .filter((path) => !isNodeModules(path))
    .flatMap(filesUnder)
    .filter((file) => !removed.some((path) => within(file, path)));
};

describe('the production image (Dockerfile)', () => {
  it('copies single parts of the build, never the whole build context', () => {
    expect(copiedFromBuild()).to.not.include('');
    expect(copiedFromBuild()).to.not.be.empty;
  });

  it('holds no TypeScript sources, tests, benchmarks, soak runs or test helpers', () => {
    const files = imageFiles();
    expect(files).to.not.be.empty;
    const strays = files.filter(
      (file) =>
        (file.endsWith('.ts') && !file.endsWith('.d.ts')) ||
        file.endsWith('.tsbuildinfo') ||
        file.split('/').some((directory) => ['test', 'bench', 'soak', 'testing', 'fixtures'].includes(directory)),
    );
    expect(strays).to.deep.equal([]);
  });

  it('holds what the services run and read: their entry points, the web UI and the package manifests', () => {
    const copied = copiedFromBuild();
    const inImage = (file: string): boolean =>
      copied.some((path) => within(file, path)) && !removedInBuild().some((path) => within(file, path));
    const compose = parse(readFileSync(join(repositoryRoot, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { build?: unknown; command?: string[] }>;
    };
    const entryPoints = Object.values(compose.services)
      .filter((service) => service.build !== undefined)
      .map((service) => service.command![1]!);
    const workspaces = (JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    const needed = [
      ...entryPoints,
      'standalone/dist/src/main.js',
      'standalone/dist/src/cli/folioCli.js',
      // The version the services report.
      'package.json',
      ...workspaces.map((workspace) => `${workspace}/package.json`),
      // The web UI: the page and stylesheet, and the browser modules compiled from query-side/ui.
      'query-side/ui/public/index.html',
      'query-side/ui/public/folio.css',
      'query-side/dist/ui/src/main.js',
      'shared/dist/src/search/sqliteSearchWriterThread.js',
      'node_modules/express/package.json',
    ];
    expect(needed.filter((file) => !inImage(file))).to.deep.equal([]);
  });

  it('copies each workspace node_modules the lockfile installs for production, and no other', () => {
    const lock = JSON.parse(readFileSync(join(repositoryRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const nested = [
      ...new Set(
        Object.entries(lock.packages)
          .filter(([path, entry]) => entry.dev !== true && /^[^/]+\/node_modules\//.test(path) && !path.startsWith('node_modules/'))
          .map(([path]) => path.slice(0, path.indexOf('/node_modules/') + '/node_modules'.length)),
      ),
    ].sort();
    const copiedNested = copiedFromBuild()
      .filter((path) => path !== 'node_modules' && path.endsWith('/node_modules'))
      .sort();
    expect(copiedFromBuild()).to.include('node_modules');
    expect(copiedNested).to.deep.equal(nested);
  });
});
