import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { FolioError, problemDetailsHandler, ValidationError } from '@folio/shared';
import { createIdempotencyStore } from '../../src/idempotency/idempotencyStore.js';
import { idempotentHandler, type IdempotentHandlerOptions } from '../../src/idempotency/idempotentRoute.js';
import { deferred, openTempStore, type Deferred, type TempStore } from './testSupport.js';

class AccountFrozenError extends FolioError {
  readonly type = 'account-frozen';
  readonly status = 409;
}

describe('idempotent express handler', () => {
  let temp: TempStore;
  let server: Server;
  let baseUrl: string;
  let calls: string[];
  let gate: Deferred<void> | undefined;
  let minted: number;

  type Input = { amount: string; from?: string };
  const start = async (handlerOptions: Partial<IdempotentHandlerOptions<Input>> = {}, inFlightWaitMs = 5_000) => {
    const store = createIdempotencyStore({ eventStore: temp.store, clock: () => new Date(), inFlightWaitMs });
    const options: IdempotentHandlerOptions<Input> = {
      store,
      required: true,
      callerOf: (req) => req.get('x-caller') ?? 'anonymous',
      resourceIdFactory: () => `tr-${++minted}`,
      parse: (req) => {
        const body = req.body as { amount?: unknown; from?: string } | undefined;
        if (typeof body?.amount !== 'string') throw new ValidationError('amount must be a string of minor units');
        return { amount: body.amount, ...(body.from === undefined ? {} : { from: body.from }) };
      },
      handle: async (_req, { amount, from }, resourceId) => {
        calls.push(resourceId);
        await gate?.promise;
        if (from === 'frozen') throw new AccountFrozenError('account frozen is frozen');
        return {
          status: 201,
          body: { transferId: resourceId, amount },
          headers: { location: `/transfers/${resourceId}` },
        };
      },
      ...handlerOptions,
    };
    const app = express();
    app.use(express.json());
    app.post('/transfers', idempotentHandler(options));
    app.use(problemDetailsHandler());
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${baseUrl}/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeEach(() => {
    temp = openTempStore();
    calls = [];
    gate = undefined;
    minted = 0;
  });

  afterEach(async () => {
    gate?.resolve();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await temp.dispose();
  });

  it('refuses a money-moving request without a key with 400 idempotency-key-required', async () => {
    await start();

    const response = await post({ amount: '1050' });

    expect(response.status).to.equal(400);
    expect(await response.json()).to.include({ type: 'urn:folio:problem:idempotency-key-required' });
    expect(calls).to.be.empty;
  });

  for (const [name, key] of [
    ['too long', 'k'.repeat(256)],
    ['with a control character', 'order\t7731'],
    ['not ASCII', 'commande-\u00e9'],
  ] as const) {
    it(`refuses a key ${name} with 400 validation`, async () => {
      await start();

      const response = await post({ amount: '1050' }, { 'idempotency-key': key });

      expect(response.status).to.equal(400);
      expect(await response.json()).to.include({ type: 'urn:folio:problem:validation' });
      expect(calls).to.be.empty;
    });
  }

  it('accepts a key of 255 printable characters', async () => {
    await start();

    const response = await post({ amount: '1050' }, { 'idempotency-key': `${'k'.repeat(254)}~` });

    expect(response.status).to.equal(201);
  });

  it('replays the response with Idempotent-Replayed: true, whatever the body spelling', async () => {
    await start();
    const headers = { 'idempotency-key': 'order-7731' };

    const first = await post('{"amount":"1050","from":"1"}', headers);
    const firstBody: unknown = await first.json();
    const replay = await post('{ "from": "1",  "amount": "1050" }', headers);

    expect(first.status).to.equal(201);
    expect(first.headers.get('idempotent-replayed')).to.equal(null);
    expect(replay.status).to.equal(201);
    expect(replay.headers.get('idempotent-replayed')).to.equal('true');
    expect(replay.headers.get('location')).to.equal('/transfers/tr-1');
    expect(await replay.json()).to.deep.equal(firstBody);
    expect(calls).to.deep.equal(['tr-1']);
  });

  it('refuses the key for a different body with 422', async () => {
    await start();
    const headers = { 'idempotency-key': 'order-7731' };
    await post({ amount: '1050' }, headers);

    const response = await post({ amount: '1051' }, headers);

    expect(response.status).to.equal(422);
    expect(await response.json()).to.include({ type: 'urn:folio:problem:idempotency-key-reused' });
    expect(calls).to.have.length(1);
  });

  it('replays a business rejection as the same problem document', async () => {
    await start();
    const headers = { 'idempotency-key': 'frozen-1' };

    const first = await post({ amount: '1050', from: 'frozen' }, headers);
    const firstBody: unknown = await first.json();
    const retry = await post({ amount: '1050', from: 'frozen' }, headers);

    expect(first.status).to.equal(409);
    expect(first.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(firstBody).to.include({ type: 'urn:folio:problem:account-frozen', status: 409 });
    expect(retry.status).to.equal(409);
    expect(retry.headers.get('idempotent-replayed')).to.equal('true');
    expect(await retry.json()).to.deep.equal(firstBody);
    expect(calls).to.have.length(1);
  });

  it('does not claim the key when the input fails validation', async () => {
    await start();
    const headers = { 'idempotency-key': 'order-7731' };

    const invalid = await post({ amount: 1050 }, headers);
    const valid = await post({ amount: '1050' }, headers);

    expect(invalid.status).to.equal(400);
    expect(valid.status).to.equal(201);
    expect(valid.headers.get('idempotent-replayed')).to.equal(null);
  });

  it('runs every request when the key is optional and absent', async () => {
    await start({ required: false });

    const responses = [await post({ amount: '1050' }), await post({ amount: '1050' })];

    expect(responses.map((response) => response.status)).to.deep.equal([201, 201]);
    expect(responses.map((response) => response.headers.get('idempotent-replayed'))).to.deep.equal([null, null]);
    expect(calls).to.deep.equal(['tr-1', 'tr-2']);
  });

  it('scopes keys per caller', async () => {
    await start();

    await post({ amount: '1050' }, { 'idempotency-key': 'shared', 'x-caller': 'merchant:a' });
    const other = await post({ amount: '1050' }, { 'idempotency-key': 'shared', 'x-caller': 'merchant:b' });

    expect(other.status).to.equal(201);
    expect(other.headers.get('idempotent-replayed')).to.equal(null);
    expect(calls).to.deep.equal(['tr-1', 'tr-2']);
  });

  it('answers 409 with Retry-After while the first request is still running', async () => {
    await start({}, 30);
    gate = deferred();
    const headers = { 'idempotency-key': 'order-7731' };
    const first = post({ amount: '1050' }, headers);
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    const second = await post({ amount: '1050' }, headers);

    expect(second.status).to.equal(409);
    expect(second.headers.get('retry-after')).to.equal('1');
    expect(await second.json()).to.include({ type: 'urn:folio:problem:idempotent-request-in-progress', retryAfterSeconds: 1 });
    gate.resolve();
    expect((await first).status).to.equal(201);
  });

  it('executes 20 concurrent requests with one key once and answers all 20 identically', async () => {
    await start();
    gate = deferred();
    const headers = { 'idempotency-key': 'burst-1' };

    const pending = Array.from({ length: 20 }, () => post({ amount: '1050' }, headers));
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    setTimeout(() => gate?.resolve(), 50);
    const responses = await Promise.all(pending);
    const bodies = await Promise.all(responses.map((response) => response.json()));

    expect(calls).to.deep.equal(['tr-1']);
    expect(responses.map((response) => response.status)).to.deep.equal(Array(20).fill(201));
    for (const body of bodies) expect(body).to.deep.equal({ transferId: 'tr-1', amount: '1050' });
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') === 'true')).to.have.length(19);
  });
});
