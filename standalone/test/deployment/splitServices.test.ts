import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '@folio/shared';
import { expect } from 'chai';
import { startService, type ServiceProcess } from '../fixtures/serviceProcess.js';

const entryPoint = (workspace: string) => new URL(`../../../../${workspace}/dist/src/main.js`, import.meta.url);

const post = async (url: string, body: unknown, idempotencyKey: string, auth: { authorization: string }) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey, ...auth },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('the split topology: write API, projections and read API as three processes', function () {
  this.timeout(30_000);
  const running: ServiceProcess[] = [];

  after(async () => {
    for (const service of running.reverse()) await service.stop();
  });

  it('serves a write through the projections process to the read API, waiting for its position; the write side acts on the discrepancies they found', async () => {
    // One admin key for all three: the write side creates it, the others read it from the log.
    const environment = {
      FOLIO_DATA_DIR: join(mkdtempSync(join(tmpdir(), 'folio-split-')), 'data'),
      FOLIO_BOOTSTRAP_ADMIN_KEY: generateApiKey().token,
    };
    const commandSide = await startService(entryPoint('command-side'), 'command-side', environment);
    running.push(commandSide);
    const projections = await startService(entryPoint('projections'), 'projections', environment);
    running.push(projections);
    const querySide = await startService(entryPoint('query-side'), 'query-side', environment);
    running.push(querySide);

    for (const service of running) expect((await fetch(`${service.url}/healthz`)).status, service.url).to.equal(200);

    const account = await post(`${commandSide.url}/v1/accounts`, { ownerId: 'split-owner', currency: 'EUR', kind: 'customer' }, 'split-open', commandSide.auth);
    expect(account.status).to.equal(201);
    const deposit = await post(
      `${commandSide.url}/v1/deposits`,
      { accountId: account.body['id'], amount: '4200', currency: 'EUR', reference: 'split-deposit' },
      'split-deposit',
      commandSide.auth,
    );
    expect(deposit.status).to.equal(201);

    const balance = await fetch(`${querySide.url}/v1/accounts/${String(account.body['id'])}/balance?position=${String(deposit.body['position'])}`, {
      headers: querySide.auth,
    });
    expect(balance.status).to.equal(200);
    expect(((await balance.json()) as { posted: string }).posted).to.equal('4200');

    // The projections process's progress and metrics are for staff keys, as every process's are.
    expect((await fetch(`${projections.url}/v1/projections`)).status).to.equal(401);
    expect((await fetch(`${projections.url}/metrics`)).status).to.equal(401);
    expect((await fetch(`${projections.url}/metrics`, { headers: projections.auth })).status).to.equal(200);
    const progress = await fetch(`${projections.url}/v1/projections`, { headers: projections.auth });
    const status = (await progress.json()) as { projections: { position: string | null }[] };
    for (const projection of status.projections) {
      expect(BigInt(projection.position ?? '-1') >= BigInt(String(deposit.body['position']))).to.equal(true);
    }

    // The write side finds the discrepancies the projections process found, in the read model the query side reads.
    const report = ['balance_transaction_id,currency,gross,reporting_category', 'txn_split_ghost,eur,7.77,charge', ''].join('\n');
    const imported = await fetch(`${commandSide.url}/v1/statements?provider=sandbox&format=stripe-balance`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', ...commandSide.auth },
      body: report,
    });
    expect(imported.status).to.equal(201);
    const { position } = (await imported.json()) as { position: string };
    const listed = await fetch(`${querySide.url}/v1/reconciliation/discrepancies?status=open&position=${position}`, { headers: querySide.auth });
    const [ghost] = ((await listed.json()) as { items: { id: string; code: string }[] }).items;
    expect(ghost?.code).to.equal('PROVIDER_UNMATCHED');
    const resolve = (provider: string, key: string) =>
      post(
        `${commandSide.url}/v1/reconciliation/discrepancies/${ghost!.id}/resolve`,
        { resolution: 'suspense', reason: 'ghost charge', correction: { amount: '777', currency: 'EUR', provider } },
        key,
        commandSide.auth,
      );
    expect((await resolve('stripe', 'split-resolve-stripe')).body['type']).to.equal('urn:folio:problem:correction-mismatch');
    expect((await resolve('sandbox', 'split-resolve')).status).to.equal(200);
    const unknown = await post(`${commandSide.url}/v1/reconciliation/discrepancies/${'0'.repeat(32)}/acknowledge`, { reason: 'who knows' }, 'split-unknown', commandSide.auth);
    expect(unknown.status).to.equal(404);

    for (const service of running.splice(0).reverse()) expect(await service.stop(), 'clean exit on SIGTERM').to.equal(0);
  });
});
