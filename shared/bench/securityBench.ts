/**
 * `npm run bench:security`: what the security gate costs per request. The same express app,
 * answering every request after reading its JSON body, is measured bare and behind the gate
 * (API key, access policy, rate limits; for a merchant also the body read and the ownership
 * lookup), interleaved round by round so the machine's noise falls on all alike.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import express, { type RequestHandler } from 'express';
import { openSqliteEventStore } from '../src/eventStore/sqlite/sqliteEventStore.js';
import { jsonBody } from '../src/http/jsonBody.js';
import { createCredentialCommands } from '../src/security/credentialCommands.js';
import { createCredentialDirectory } from '../src/security/credentialDirectory.js';
import { createInMemoryRateLimiter } from '../src/security/rateLimiter.js';
import { createInMemoryReplayGuard } from '../src/security/replayGuard.js';
import { securityMiddleware } from '../src/security/securityMiddleware.js';
import { createEd25519Verifier } from '../src/security/signatureVerifier.js';
import { median, numberFromEnv } from '../src/testing/index.js';

const ROUNDS = numberFromEnv('BENCH_ROUNDS', 3);
const SECONDS = numberFromEnv('BENCH_SECONDS', 3);
const CONNECTIONS = numberFromEnv('BENCH_CONNECTIONS', 50);

const directoryPath = mkdtempSync(join(tmpdir(), 'folio-security-bench-'));
const eventStore = openSqliteEventStore({ path: join(directoryPath, 'events.sqlite') });
const commands = createCredentialCommands({ eventStore, clock: () => new Date(), actor: 'bench' });
const admin = (await commands.createKey({ role: 'admin' })).token;
const merchant = (await commands.createKey({ role: 'merchant', ownerId: 'shop' })).token;
const directory = createCredentialDirectory({ eventStore, onError: (error) => console.error(error) });
await directory.start();
directory.apply({ type: 'AccountOpened', data: { accountId: '1001', ownerId: 'shop' } });
const unlimited = { perSecond: 1e9, burst: 1e9 };
const gate = securityMiddleware({
  directory,
  eventStore,
  verifier: createEd25519Verifier(),
  replayGuard: createInMemoryReplayGuard(Date.now),
  limiter: createInMemoryRateLimiter(),
  limits: { perIp: unlimited, perKey: unlimited, moneyPerKey: unlimited, perDevice: unlimited, failuresPerIp: unlimited },
  clock: () => new Date(),
  signatureToleranceSeconds: 300,
});

const serve = async (gated: boolean): Promise<Server> => {
  const app = express();
  const answer: RequestHandler = (_request, response) => void response.json({ ok: true });
  if (gated) app.use(gate);
  app.use(jsonBody(), answer);
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
};

const body = JSON.stringify({ fromAccountId: '1001', toAccountId: '1002', amount: '1050', currency: 'EUR', reference: 'bench transfer' });
const scenarios = [
  { name: 'bare express, JSON body (baseline)', gated: false, key: undefined },
  { name: 'behind the gate, admin key', gated: true, key: admin },
  { name: 'behind the gate, merchant key (body read, ownership checked)', gated: true, key: merchant },
] as const;

const results = new Map<string, number[]>(scenarios.map(({ name }) => [name, []]));
for (let round = 1; round <= ROUNDS; round++) {
  for (const scenario of scenarios) {
    const server = await serve(scenario.gated);
    const { port } = server.address() as AddressInfo;
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/v1/transfers`,
      method: 'POST',
      connections: CONNECTIONS,
      duration: SECONDS,
      body,
      headers: {
        'content-type': 'application/json',
        ...(scenario.key === undefined ? {} : { authorization: `Bearer ${scenario.key}` }),
      },
    });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${scenario.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    results.get(scenario.name)!.push(result.requests.average);
    console.log(`round ${round}/${ROUNDS}: ${scenario.name}: ${Math.round(result.requests.average)} req/s, load average ${loadavg()[0]!.toFixed(1)}`);
    await new Promise((resolve) => server.close(resolve));
  }
}

const baseline = median(results.get(scenarios[0].name)!);
console.log(`\n${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString()}; ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections\n`);
console.log('| scenario | requests/s (median) | ÷ baseline |');
console.log('|---|---:|---:|');
for (const { name } of scenarios) {
  const value = median(results.get(name)!);
  console.log(`| ${name} | ${Math.round(value)} | ${(value / baseline).toFixed(2)} |`);
}
await directory.stop();
await eventStore.close();
rmSync(directoryPath, { recursive: true, force: true });
