import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { correlationId, notFoundHandler, problemDetailsHandler } from '@folio/shared';
import { expect } from 'chai';
import express from 'express';
import { statementRoutes } from '../../src/statements/statementRoutes.js';
import { createApiHarness, DIGITS, openTempStore, type ApiHarness } from '../api/apiHarness.js';
import { sampleText } from './statementSamples.js';

const upload = (harness: ApiHarness, query: string, body: string, contentType = 'text/csv') =>
  harness.api.request('POST', `/v1/statements?${query}`, { body, headers: { 'content-type': contentType } });

describe('write API over HTTP: statement uploads', () => {
  let harness: ApiHarness;
  beforeEach(async () => {
    harness = await createApiHarness();
  });
  afterEach(() => harness.close());

  it('imports a file: 201 with the summary, its position and where to find it again', async () => {
    const response = await upload(harness, 'provider=stripe&fileName=po_1QZyXwVu000777.csv', sampleText('stripe/payout-reconciliation.csv'));
    expect(response.status, response.text).to.equal(201);
    expect(response.body).to.deep.include({
      provider: 'stripe',
      format: 'stripe-balance',
      fileName: 'po_1QZyXwVu000777.csv',
      rows: { total: 4, recorded: 4, restated: 0, unchanged: 0, duplicated: 0 },
      statements: [],
      alreadyImported: false,
    });
    expect(response.body.position).to.match(DIGITS);
    expect(response.headers.location).to.equal(`/v1/statements/stripe/${response.body.fileHash}`);
    const found = await harness.api.get(response.headers.location!);
    expect(found.status).to.equal(200);
    const { alreadyImported: _alreadyImported, ...summary } = response.body;
    expect(found.body).to.deep.equal(summary);
  });

  it('answers the same file again with 200 and the first import, writing nothing', async () => {
    const body = sampleText('paypal/STL-20240603.01.009.CSV');
    const first = await upload(harness, 'provider=paypal', body);
    expect(first.status, first.text).to.equal(201);
    const again = await harness.expectNothingWritten(() => upload(harness, 'provider=paypal', body, 'text/plain; charset=utf-8'));
    expect(again.status, again.text).to.equal(200);
    expect(again.body).to.deep.equal({ ...first.body, alreadyImported: true });
  });

  it('carries money as strings of minor units and statement facts for reconciliation', async () => {
    const response = await upload(harness, 'provider=nlbank&format=camt053', sampleText('camt053/statement-20240603.xml'), 'application/xml');
    expect(response.status, response.text).to.equal(201);
    const [statement] = response.body.statements;
    expect(statement).to.deep.include({ statementId: 'STMT-20240603-EUR', sequenceNumber: '88', account: 'NL02ABNA0123456789' });
    expect(statement.balances[1]).to.deep.equal({ type: 'CLBD', amount: '520422', currency: 'EUR', date: '2024-06-03' });
    expect(statement.rowTotals).to.deep.equal([{ currency: 'EUR', count: 3, credits: '28950', debits: '8528' }]);
  });

  it('reads a generic CSV through the mapping given in the query', async () => {
    const mapping = encodeURIComponent(sampleText('csv/bank-export.mapping.json'));
    const response = await upload(harness, `provider=nlbank&format=csv&mapping=${mapping}`, sampleText('csv/bank-export.csv'));
    expect(response.status, response.text).to.equal(201);
    expect(response.body.rows.recorded).to.equal(3);
  });

  it('rejects a malformed file with 422 naming the line, column and reason, and writes nothing', async () => {
    const response = await harness.expectNothingWritten(() =>
      upload(harness, 'provider=nlbank&format=mt940', sampleText('mt940/bad-lines.sta'), 'text/plain'),
    );
    expect(response.status).to.equal(422);
    expect(response.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(response.body).to.deep.include({ type: 'urn:folio:problem:malformed-statement', format: 'mt940', line: 5, column: ':61:', issueCount: 2 });
    expect(response.body.reason).to.match(/"10,005" \(EUR\) has 3 decimals/);
    expect(response.body.issues.map((issue: { line: number }) => issue.line)).to.deep.equal([5, 11]);
  });

  it('refuses what it cannot read before reading it: media type, charset, encoding, provider and format', async () => {
    const csv = sampleText('stripe/payout-reconciliation.csv');
    const cases: [string, Record<string, string>, number, RegExp][] = [
      ['provider=stripe', { 'content-type': 'application/json' }, 415, /sent as text\/csv or text\/plain/],
      ['provider=stripe', { 'content-type': 'text/csv; charset=latin1' }, 415, /read as UTF-8/],
      ['provider=stripe', { 'content-type': 'text/csv', 'content-encoding': 'gzip' }, 415, /not compressed/],
      ['provider=nlbank&format=camt053', { 'content-type': 'text/csv' }, 415, /application\/xml or text\/xml/],
      ['provider=Stripe', { 'content-type': 'text/csv' }, 400, /invalid provider/],
      ['provider=acmebank', { 'content-type': 'text/csv' }, 400, /say which format/],
      ['provider=stripe&format=xlsx', { 'content-type': 'text/csv' }, 400, /unknown statement format/],
      ['provider=stripe&sheet=1', { 'content-type': 'text/csv' }, 400, /unknown field "sheet"/],
      ['format=csv', { 'content-type': 'text/csv' }, 400, /query\.provider: required/],
      ['provider=stripe&fileName=a%0Ab.csv', { 'content-type': 'text/csv' }, 400, /query\.fileName: must not contain control characters/],
      ['provider=stripe&fileName=..%2F..%2Fetc%2Fpasswd', { 'content-type': 'text/csv' }, 400, /query\.fileName: must be a file name, not a path/],
      ['provider=stripe&fileName=..%5Cboot.ini', { 'content-type': 'text/csv' }, 400, /query\.fileName: must be a file name, not a path/],
      ['provider=stripe&fileName=..', { 'content-type': 'text/csv' }, 400, /query\.fileName: must be a file name, not a path/],
    ];
    for (const [query, headers, status, detail] of cases) {
      const response = await harness.expectNothingWritten(() => harness.api.request('POST', `/v1/statements?${query}`, { body: csv, headers }));
      expect(response.status, `${query} ${JSON.stringify(headers)}: ${response.text}`).to.equal(status);
      expect(response.body.detail).to.match(detail);
    }
  });

  it('answers 404 for an import that never happened', async () => {
    const response = await harness.api.get(`/v1/statements/stripe/${'0'.repeat(64)}`);
    expect(response.status).to.equal(404);
  });
});

describe('write API over HTTP: statement upload size limit', () => {
  it('refuses a file over the limit with 413, whether declared or streamed, and writes nothing', async () => {
    const temp = openTempStore();
    const app = express();
    app.use(correlationId());
    app.use(statementRoutes({ eventStore: temp.store, callerOf: () => 'test', clock: () => new Date() }, { limitBytes: 200 }));
    app.use(notFoundHandler());
    app.use(problemDetailsHandler());
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/statements?provider=stripe`;
      const declared = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: sampleText('stripe/payout-reconciliation.csv') });
      expect(declared.status).to.equal(413);
      expect(await declared.json()).to.include({ limitBytes: 200 });
      const streamed = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: new ReadableStream({
          start(controller) {
            const bytes = new TextEncoder().encode(sampleText('stripe/payout-reconciliation.csv'));
            for (let at = 0; at < bytes.length; at += 64) controller.enqueue(bytes.subarray(at, at + 64));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status).to.equal(413);
      expect(await temp.store.headPosition()).to.equal(undefined);
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await temp.dispose();
    }
  });
});
