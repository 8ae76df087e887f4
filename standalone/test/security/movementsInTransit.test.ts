/**
 * A holder reads its own movement while it is between its legs: the movement's own stream is
 * written only when it ends, so ownership cannot be judged from it alone. The write side runs as
 * its composition wires it, over a store that refuses a movement's second leg, which leaves the
 * movement in transit as a store outage after its first leg does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  accountStream,
  composeSecurity,
  createCredentialCommands,
  createLogger,
  createMetrics,
  createServiceApp,
  loadConfig,
  openEventStore,
  StoreUnavailableError,
  systemAccountId,
  type AppendOptions,
  type EventStore,
  type EventToAppend,
} from '@folio/shared';
import { composeWriteApi } from '@folio/command-side';

/** A posting the store refuses: of `type`, to `accountId`. */
interface Refusal {
  accountId: string;
  type: 'AccountCredited' | 'AccountDebited';
}

/** `store` refusing, as if it were down, the posting `refusal()` names. */
const refusingPostings = (store: EventStore, refusal: () => Refusal | undefined): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) => {
          const refused = refusal();
          const refuse = refused !== undefined && streamName === accountStream(refused.accountId) && events.some((event) => event.type === refused.type);
          return refuse ? Promise.reject(new StoreUnavailableError('the store is unreachable')) : target.appendToStream(streamName, events, options);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

interface Answer {
  status: number;
  body: any;
}

describe('security: a holder reads its own movement in transit', function () {
  this.timeout(30_000);
  let refusal: Refusal | undefined;
  let dataDir: string;
  let stop: () => Promise<void>;
  let call: (method: string, path: string, key: string, body?: unknown) => Promise<Answer>;
  let admin: string;
  let alice: string;
  let bob: string;
  let carol: string;
  let aliceAccount: string;
  let bobAccount: string;

  /** The movement of `kind` in transit, once movement recovery has folded its first leg. */
  const inTransit = async (kind: string): Promise<string> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const { body } = await call('GET', '/v1/operations/in-transit', admin);
      const found = (body.movements as { kind: string; id: string }[]).find((movement) => movement.kind === kind);
      if (found !== undefined) return found.id;
      if (Date.now() > deadline) throw new Error(`no ${kind} in transit`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  /** Another holder gets what a missing id gets, the id aside, and nothing of the movement. */
  const expectHiddenFrom = async (key: string, path: string, missingPath: string, id: string, missingId: string) => {
    const hidden = await call('GET', path, key);
    const missing = await call('GET', missingPath, key);
    expect(hidden.status).to.equal(404);
    expect(missing.status).to.equal(404);
    const { instance: _hiddenInstance, correlationId: _hiddenCorrelation, ...hiddenRest } = hidden.body;
    const { instance: _missingInstance, correlationId: _missingCorrelation, ...missingRest } = missing.body;
    expect(JSON.stringify(hiddenRest).replaceAll(id, '<id>')).to.equal(JSON.stringify(missingRest).replaceAll(missingId, '<id>'));
    expect(JSON.stringify(hidden.body)).to.not.contain(aliceAccount).and.to.not.contain(bobAccount);
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'folio-in-transit-'));
    const config = loadConfig({ FOLIO_DATA_DIR: dataDir });
    const eventStore = refusingPostings(openEventStore(config), () => refusal);
    const logger = createLogger({ service: 'folio', level: 'silent' });
    const metrics = createMetrics();
    const security = composeSecurity({ eventStore, config, logger, metrics });
    const discrepancies = async () => undefined;
    const { writeApi, guard, routers } = composeWriteApi({ eventStore, config, logger, metrics, security, discrepancies });
    await security.start({ bootstrap: false });
    await writeApi.start();
    const app = createServiceApp({ eventStore, guard, routers, logger, metrics, readyMaxLagSeconds: config.readyMaxLagSeconds });
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const { port } = server.address() as AddressInfo;
    call = async (method, path, key, body) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    };
    stop = async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await writeApi.stop();
      await security.stop();
      await eventStore.close();
    };

    const commands = createCredentialCommands({ eventStore, clock: () => new Date(), actor: 'test' });
    admin = (await commands.createKey({ role: 'admin' })).token;
    alice = (await commands.createKey({ role: 'customer', ownerId: 'alice' })).token;
    bob = (await commands.createKey({ role: 'customer', ownerId: 'bob' })).token;
    carol = (await commands.createKey({ role: 'customer', ownerId: 'carol' })).token;
    const open = async (ownerId: string) => (await call('POST', '/v1/accounts', admin, { ownerId, currency: 'EUR', kind: 'customer' })).body.id as string;
    aliceAccount = await open('alice');
    bobAccount = await open('bob');
    await open('carol');
    const funded = await call('POST', '/v1/deposits', admin, { accountId: aliceAccount, amount: '1000', currency: 'EUR', reference: 'funding' });
    expect(funded.status).to.equal(201);
  });

  after(async () => {
    await stop?.();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows a transfer in transit to both its holders, and to another holder as a missing id', async () => {
    refusal = { accountId: bobAccount, type: 'AccountCredited' };
    const refused = await call('POST', '/v1/transfers', admin, { fromAccountId: aliceAccount, toAccountId: bobAccount, amount: '50', currency: 'EUR' });
    expect(refused.status).to.equal(503);
    const id = await inTransit('transfer');
    const path = `/v1/transfers/${id}`;
    expect((await call('GET', path, admin)).body.status).to.equal('in_transit');

    for (const key of [alice, bob]) {
      const seen = await call('GET', path, key);
      expect(seen.status, JSON.stringify(seen.body)).to.equal(200);
      expect(seen.body).to.include({ id, status: 'in_transit', fromAccountId: aliceAccount, toAccountId: bobAccount });
    }
    const missingId = (BigInt(id) + 1n).toString();
    await expectHiddenFrom(carol, path, `/v1/transfers/${missingId}`, id, missingId);
  });

  it('shows a deposit in transit to its holder, and to another holder as a missing id', async () => {
    // A deposit credits the holder first, then debits the bank.
    refusal = { accountId: systemAccountId({ role: 'bank', currency: 'EUR' }), type: 'AccountDebited' };
    const refused = await call('POST', '/v1/deposits', admin, { accountId: aliceAccount, amount: '70', currency: 'EUR', reference: 'held' });
    expect(refused.status).to.equal(503);
    const id = await inTransit('deposit');
    const path = `/v1/deposits/${id}`;
    expect((await call('GET', path, admin)).body.status).to.equal('in_transit');

    const seen = await call('GET', path, alice);
    expect(seen.status, JSON.stringify(seen.body)).to.equal(200);
    expect(seen.body).to.include({ id, status: 'in_transit', accountId: aliceAccount });
    const missingId = (BigInt(id) + 1n).toString();
    await expectHiddenFrom(bob, path, `/v1/deposits/${missingId}`, id, missingId);
    // A holder reading a transfer's path with a deposit's id is told what the route tells an admin.
    expect((await call('GET', `/v1/transfers/${id}`, alice)).status).to.equal(404);
  });
});
