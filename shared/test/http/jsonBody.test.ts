import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import express from 'express';
import { z } from 'zod';
import { jsonBody, MAX_BODY_DEPTH } from '../../src/http/jsonBody.js';
import { notFoundHandler, problemDetailsHandler, toJsonSafe } from '../../src/http/problemDetails.js';
import { parseRequest } from '../../src/http/validation.js';
import {
  accountIdSchema,
  amountSchema,
  currencySchema,
  metadataSchema,
  referenceSchema,
} from '../../src/http/wireSchemas.js';
import { listen, rawRequest, type TestServer } from './httpTestServer.js';

const transferBatchSchema = z.strictObject({
  reference: referenceSchema,
  currency: currencySchema,
  transfers: z
    .array(z.strictObject({ from: accountIdSchema, to: accountIdSchema, amount: amountSchema }))
    .min(1),
  metadata: metadataSchema.optional(),
});

const LIMIT = 2048;

const transfer = (amount: unknown = '1050') => ({ from: '1001', to: '1002', amount });
const validBatch = () => ({ reference: 'batch-1', currency: 'EUR', transfers: [transfer(), transfer('7')] });

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

describe('jsonBody and parseRequest over HTTP', () => {
  let server: TestServer;
  let reached: unknown[];

  before(async () => {
    const app = express();
    app.post('/transfers', jsonBody({ limit: LIMIT }), (request, response) => {
      reached.push(request.body);
      const batch = parseRequest(transferBatchSchema, request.body, 'body');
      response.status(201).json(toJsonSafe(batch));
    });
    app.post('/accounts/:id/freeze', jsonBody(), (request, response) => {
      reached.push(request.body);
      response.json({ body: request.body as unknown });
    });
    app.post('/deep', jsonBody(), (request, response) => {
      response.json({ keys: Object.keys(request.body as object) });
    });
    app.get('/accounts/:id', jsonBody(), (request, response) => {
      reached.push(request.body);
      response.json({ hasBody: request.body !== undefined });
    });
    app.use(notFoundHandler());
    app.use(problemDetailsHandler({ onUnexpectedError: () => undefined }));
    server = await listen(app);
  });

  after(() => server.close());
  beforeEach(() => {
    reached = [];
  });

  const received = async (response: Response) => ({
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: (await response.json()) as Problem,
  });

  const postJson = async (path: string, body: string, contentType = 'application/json') =>
    received(await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body }));

  const expectRejected = (
    response: { status: number; contentType: string | null; body: Problem },
    status: number,
    slug: string,
  ) => {
    expect(response.status, JSON.stringify(response.body)).to.equal(status);
    expect(response.contentType).to.match(/^application\/problem\+json/);
    expect(response.body.type).to.equal(`urn:folio:problem:${slug}`);
    expect(reached, 'the handler must not run').to.deep.equal([]);
  };

  it('hands a valid command to the handler, amounts parsed to bigint', async () => {
    const response = await postJson('/transfers', JSON.stringify(validBatch()), 'application/json; charset=utf-8');
    expect(response.status).to.equal(201);
    expect(response.body).to.deep.equal(validBatch());
    expect(reached).to.have.length(1);
  });

  it('reads an absent body as an empty object, whatever the Content-Type', async () => {
    const noBody = await fetch(`${server.url}/accounts/1001/freeze`, { method: 'POST' });
    expect(noBody.status).to.equal(200);
    expect(await noBody.json()).to.deep.equal({ body: {} });
    const emptyText = await fetch(`${server.url}/accounts/1001/freeze`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '',
    });
    expect(emptyText.status).to.equal(200);
    const withoutHeaders = await rawRequest(`${server.url}/accounts/1001/freeze`, { method: 'POST' });
    expect(withoutHeaders.body).to.deep.equal({ body: {} });
    expect(reached).to.deep.equal([{}, {}, {}]);
  });

  it('reads an empty chunked JSON body as an empty object', async () => {
    const response = await rawRequest(`${server.url}/accounts/1001/freeze`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    expect(response.status).to.equal(200);
    expect(response.body).to.deep.equal({ body: {} });
  });

  it('leaves requests of other methods alone', async () => {
    const response = await fetch(`${server.url}/accounts/1001`);
    expect(await response.json()).to.deep.equal({ hasBody: false });
  });

  describe('size', () => {
    it('answers 413 to a body over the limit', async () => {
      const big = JSON.stringify({ ...validBatch(), reference: 'x'.repeat(LIMIT) });
      expectRejected(await postJson('/transfers', big), 413, 'payload-too-large');
    });

    it('answers 413 to a chunked body that grows past the limit', async () => {
      const chunk = `"${'x'.repeat(1000)}",`;
      const response = await rawRequest(`${server.url}/transfers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        chunks: ['{"padding":[', chunk, chunk, chunk, '"x"]}'],
      });
      expect(response.status).to.equal(413);
      expect(reached).to.deep.equal([]);
    });

    it('accepts a body right under the limit', async () => {
      const body = JSON.stringify({ ...validBatch(), reference: 'x'.repeat(140) });
      expect(body.length).to.be.below(LIMIT);
      expect((await postJson('/transfers', body)).status).to.equal(201);
    });
  });

  describe('media type', () => {
    it('answers 415 to text/plain', async () => {
      expectRejected(await postJson('/transfers', JSON.stringify(validBatch()), 'text/plain'), 415, 'unsupported-media-type');
    });

    it('answers 415 to a URL-encoded form', async () => {
      const response = await fetch(`${server.url}/transfers`, {
        method: 'POST',
        body: new URLSearchParams({ reference: 'r', currency: 'EUR' }),
      });
      expectRejected(await received(response), 415, 'unsupported-media-type');
    });

    it('answers 415 to multipart form data', async () => {
      const form = new FormData();
      form.set('reference', 'r');
      const response = await fetch(`${server.url}/transfers`, { method: 'POST', body: form });
      expect(response.status).to.equal(415);
      expect(reached).to.deep.equal([]);
    });

    it('answers 415 to a body without a Content-Type', async () => {
      const response = await rawRequest(`${server.url}/transfers`, { method: 'POST', chunks: ['{}'] });
      expect(response.status).to.equal(415);
      expect(response.body).to.deep.include({ supported: ['application/json'] });
      expect((response.body as Problem).detail).to.include('no Content-Type');
    });

    it('answers 415 to a JSON-like media type that is not application/json', async () => {
      expectRejected(await postJson('/transfers', '{}', 'application/merge-patch+json'), 415, 'unsupported-media-type');
    });

    it('answers 415 to a charset other than UTF-8', async () => {
      const response = await postJson('/transfers', '{}', 'application/json; charset=iso-8859-1');
      expectRejected(response, 415, 'unsupported-media-type');
    });

    it('answers 415 to a compressed body rather than inflating it', async () => {
      const response = await rawRequest(`${server.url}/transfers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        chunks: [gzipSync(JSON.stringify(validBatch()))],
      });
      expect(response.status).to.equal(415);
      expect(reached).to.deep.equal([]);
    });
  });

  describe('JSON shape', () => {
    it('answers 400 malformed-json to invalid JSON', async () => {
      const response = await postJson('/transfers', '{"reference": "r",');
      expectRejected(response, 400, 'malformed-json');
      expect(response.body.detail).to.match(/^the request body is not valid JSON/);
    });

    for (const [label, body] of [
      ['an array', '[{"reference":"r"}]'],
      ['a string', '"hello"'],
      ['a number', '1050'],
      ['null', 'null'],
    ]) {
      it(`answers 400 when the top level is ${label}`, async () => {
        const response = await postJson('/transfers', body as string);
        expectRejected(response, 400, 'validation');
        expect(response.body.errors).to.deep.equal([{ path: 'body', message: `expected a JSON object, got ${label}` }]);
      });
    }

    const polluting: [body: string, path: string][] = [
      ['{"__proto__":{"isAdmin":true}}', 'body.__proto__'],
      ['{"reference":"r","constructor":{"prototype":{"isAdmin":true}}}', 'body.constructor'],
      ['{"transfers":[{"from":"1"},{"amount":"1","x":{"__proto__":{"isAdmin":true}}}]}', 'body.transfers.1.x.__proto__'],
      ['{"a":{"b":[[{"prototype":1}]]}}', 'body.a.b.0.0.prototype'],
      ['{"metadata":{"constructor":"x"}}', 'body.metadata.constructor'],
    ];
    for (const [body, path] of polluting) {
      it(`answers 400 naming ${path}, and nothing reaches the handler`, async () => {
        const response = await postJson('/transfers', body);
        expectRejected(response, 400, 'validation');
        expect(response.body.errors?.map((issue) => issue.path)).to.deep.equal([path]);
        expect(response.body.detail).to.include(path);
        expect(({} as Record<string, unknown>).isAdmin).to.equal(undefined);
      });
    }

    const tooLarge: [body: string, path: string][] = [
      ['{"reference":"r","x":1e400}', 'body.x'],
      ['{"transfers":[{"from":"1"},{"amount":-1e400}]}', 'body.transfers.1.amount'],
      ['{"a":[[2E+999]]}', 'body.a.0.0'],
    ];
    for (const [body, path] of tooLarge) {
      it(`answers 400 naming ${path}, whose number is too large for JSON to hold, and nothing reaches the handler`, async () => {
        const response = await postJson('/transfers', body);
        expectRejected(response, 400, 'validation');
        expect(response.body.errors).to.deep.equal([{ path, message: 'a number too large to be represented' }]);
        expect(response.body.detail).to.include(path);
      });
    }

    it(`refuses a body nested more than ${MAX_BODY_DEPTH} deep, naming where, and accepts one exactly that deep`, async () => {
      const nested = (depth: number) => `{"deep":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
      const accepted = await fetch(`${server.url}/deep`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: nested(MAX_BODY_DEPTH) });
      expect(accepted.status).to.equal(200);
      expect(await accepted.json()).to.deep.equal({ keys: ['deep'] });
      const response = await postJson('/transfers', nested(MAX_BODY_DEPTH + 1));
      expectRejected(response, 400, 'validation');
      const path = ['body', 'deep', ...Array.from({ length: MAX_BODY_DEPTH - 1 }, () => '0')].join('.');
      expect(response.body.errors).to.deep.equal([{ path, message: `nested more than ${MAX_BODY_DEPTH} deep` }]);
    });

    it('refuses 20,000 levels of nesting with a 400, without overflowing the stack', async () => {
      const depth = 20_000;
      const response = await postJson('/deep', `{"transfers":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      expectRejected(response, 400, 'validation');
    });
  });

  describe('validation', () => {
    it('rejects unknown fields, naming each', async () => {
      const response = await postJson('/transfers', JSON.stringify({ ...validBatch(), amout: '5', memo: 'x' }));
      expect(response.status).to.equal(400);
      expect(response.body.type).to.equal('urn:folio:problem:validation');
      expect(response.body.errors).to.deep.equal([
        { path: 'body.amout', message: 'unknown field "amout": not accepted here' },
        { path: 'body.memo', message: 'unknown field "memo": not accepted here' },
      ]);
      expect(response.body.detail).to.include('amout').and.include('memo');
    });

    it('rejects unknown fields inside array items', async () => {
      const batch = validBatch();
      const response = await postJson('/transfers', JSON.stringify({ ...batch, transfers: [{ ...transfer(), fee: '1' }] }));
      expect(response.body.errors).to.deep.equal([
        { path: 'body.transfers.0.fee', message: 'unknown field "fee": not accepted here' },
      ]);
    });

    it('names nested and array fields by their path', async () => {
      const transfers = [transfer(), transfer(), transfer(), transfer('10.5'), transfer(1050)];
      const response = await postJson('/transfers', JSON.stringify({ ...validBatch(), transfers, currency: 'usd' }));
      expect(response.status).to.equal(400);
      const paths = response.body.errors?.map((issue) => issue.path);
      expect(paths).to.have.members(['body.currency', 'body.transfers.3.amount', 'body.transfers.4.amount']);
      const byPath = new Map(response.body.errors?.map((issue) => [issue.path, issue.message]));
      expect(byPath.get('body.transfers.3.amount')).to.include('decimal point');
      expect(byPath.get('body.transfers.4.amount')).to.include('send it as a string');
      expect(response.body.detail).to.match(/^invalid request body: /);
    });

    it('says a missing field is required', async () => {
      const { reference: _omitted, ...withoutReference } = validBatch();
      const response = await postJson('/transfers', JSON.stringify(withoutReference));
      expect(response.body.errors).to.deep.equal([{ path: 'body.reference', message: 'required' }]);
    });

    it('applies the metadata limits', async () => {
      const metadata = Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`k${index}`, 'v']));
      const response = await postJson('/transfers', JSON.stringify({ ...validBatch(), metadata }));
      expect(response.status).to.equal(400);
      expect(response.body.errors?.[0]?.path).to.equal('body.metadata');
      expect(response.body.errors?.[0]?.message).to.include('at most 50 keys');
    });
  });
});
