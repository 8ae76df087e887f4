/**
 * Summarises a `.cpuprofile` written by `node --cpu-prof` (for instance the Folio server's under
 * `BENCH_CPU_PROF_DIR=/tmp/… npm run bench:api`): self time by file or package, self time by
 * function, and inclusive time of the project's own functions (each sample counted once per
 * function on its stack), each as a share of the profiled time.
 *
 *   node command-side/dist/bench/cpuProfileSummary.js /tmp/prof/x.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [path, topArgument] = process.argv.slice(2);
if (path === undefined) {
  console.error('usage: cpuProfileSummary <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArgument ?? 25);
const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;

const projectRoot = new URL('../../../', import.meta.url).href;

/** Where a frame's code lives: a project file, a package, node's internals, or V8's pseudo-frames. */
const areaOf = (url: string, functionName: string): string => {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch !== null) return `package ${packageMatch[1]}`;
  return url.startsWith(projectRoot) ? url.slice(projectRoot.length) : url;
};

const isProjectFile = (url: string) => url.startsWith(projectRoot) && !url.includes('/node_modules/');

const nodes = new Map<number, ProfileNode>();
const parents = new Map<number, number>();
for (const node of profile.nodes) {
  nodes.set(node.id, node);
  for (const child of node.children ?? []) parents.set(child, node.id);
}

const frameName = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url === '' ? '' : ` ${areaOf(url, functionName)}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${where}`;
};

const selfByArea = new Map<string, number>();
const selfByFunction = new Map<string, number>();
const inclusiveProject = new Map<string, number>();
let total = 0;
let idle = 0;

const add = (map: Map<string, number>, key: string, value: number) => map.set(key, (map.get(key) ?? 0) + value);

for (let index = 0; index < profile.samples.length; index++) {
  const node = nodes.get(profile.samples[index]!)!;
  const delta = profile.timeDeltas[index] ?? 0;
  total += delta;
  if (node.callFrame.functionName === '(idle)') {
    idle += delta;
    continue;
  }
  add(selfByArea, areaOf(node.callFrame.url, node.callFrame.functionName), delta);
  add(selfByFunction, frameName(node), delta);
  const seen = new Set<string>();
  for (let at: ProfileNode | undefined = node; at !== undefined; at = nodes.get(parents.get(at.id) ?? -1)) {
    if (!isProjectFile(at.callFrame.url)) continue;
    const name = frameName(at);
    if (!seen.has(name)) {
      seen.add(name);
      add(inclusiveProject, name, delta);
    }
  }
}

const busy = total - idle;
const share = (value: number) => `${((100 * value) / busy).toFixed(1)} %`;
const table = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}\n`);
  console.log('| share of busy CPU | ms | where |');
  console.log('|---:|---:|---|');
  for (const [name, value] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`| ${share(value)} | ${(value / 1000).toFixed(0)} | ${name.replaceAll('|', '\\|')} |`);
  }
};

console.log(
  `${path}: ${(total / 1e6).toFixed(1)} s profiled, ${(idle / 1e6).toFixed(1)} s idle (${((100 * idle) / total).toFixed(1)} %); ` +
    'shares below are of the busy (non-idle) time',
);
table('Self time by file or package', selfByArea);
table('Self time by function', selfByFunction);
table("Inclusive time of the project's functions", inclusiveProject);
