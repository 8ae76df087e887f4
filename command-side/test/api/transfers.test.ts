import { expect } from 'chai';
import { MAX_MINOR_UNITS, systemAccountId } from '@folio/shared';
import {
  createApiHarness,
  DIGITS,
  expectBooksBalanced,
  expectProblem,
  expectValidation,
  ledgerEvents,
  readAllEvents,
  uniqueKey,
  type ApiHarness,
  type ApiResponse,
  type ApiServer,
} from './apiHarness.js';

describe('write API over HTTP: transfers and deposits', () => {
  let harness: ApiHarness;
  let api: ApiServer;

  before(async () => {
    harness = await createApiHarness();
    api = harness.api;
  });
  after(() => harness.close());

  /**
   * Runs `request` and asserts the books did not move: a remembered rejection records its
   * answer under the idempotency key, but no posting and no movement outcome.
   */
  const expectNoLedgerWrite = async (request: () => Promise<ApiResponse>): Promise<ApiResponse> => {
    const before = (await ledgerEvents(harness.store)).length;
    const response = await request();
    expect(response.status, response.text).to.be.below(500);
    const after = await ledgerEvents(harness.store);
    expect(after.length, `ledger events after ${response.status}: ${after.slice(before).map((e) => e.type).join(', ')}`).to.equal(before);
    return response;
  };

  const validTransfer = async () => ({
    fromAccountId: await api.openFundedAccount('10000'),
    toAccountId: (await api.openAccount()).id as string,
    amount: '100',
    currency: 'EUR',
  });

  describe('a transfer that completes', () => {
    it('answers 201 with the transfer, its Location and its position, and moves the money', async () => {
      const from = await api.openFundedAccount('10000');
      const to = (await api.openAccount({ kind: 'merchant' })).id as string;
      const response = await api.transfer(from, to, '1050', {
        extra: { reference: 'invoice 17', description: 'March rent', metadata: { orderId: 'A-1' } },
      });
      expect(response.status, response.text).to.equal(201);
      const transfer = response.body;
      expect(transfer).to.include({
        status: 'completed',
        fromAccountId: from,
        toAccountId: to,
        amount: '1050',
        currency: 'EUR',
        reference: 'invoice 17',
        description: 'March rent',
      });
      expect(transfer.metadata).to.deep.equal({ orderId: 'A-1' });
      expect(transfer.id).to.match(DIGITS);
      expect(transfer).to.have.property('requestedAt').that.is.a('string');
      expect(transfer).to.have.property('completedAt').that.is.a('string');
      expect(transfer).not.to.have.property('failureReason');
      expect(response.headers.location).to.equal(`/v1/transfers/${transfer.id}`);

      // The position is the read-your-writes token: the global position of the transfer's outcome.
      expect(transfer.position).to.be.a('string').and.match(DIGITS);
      const outcome = (await readAllEvents(harness.store)).find((event) => event.streamName === `transfer-${transfer.id}`);
      expect(outcome?.type).to.equal('TransferCompleted');
      expect(BigInt(transfer.position)).to.equal(outcome!.position);

      expect((await api.account(from)).balance).to.deep.equal({ posted: '8950', pending: '0', available: '8950' });
      expect((await api.account(to)).balance).to.deep.equal({ posted: '1050', pending: '0', available: '1050' });
    });

    it('spends the overdraft: available counts the limit, the posted balance goes negative', async () => {
      const from = await api.openFundedAccount('100', { overdraftLimit: '400' });
      const to = (await api.openAccount()).id as string;
      expect((await api.transfer(from, to, '500')).status).to.equal(201);
      expect((await api.account(from)).balance).to.deep.equal({ posted: '-400', pending: '0', available: '0' });
      expectProblem(await api.transfer(from, to, '1'), 422, 'insufficient-funds');
    });

    it('works in a currency with no minor unit (JPY) and one with three (BHD)', async () => {
      for (const currency of ['JPY', 'BHD']) {
        const from = await api.openFundedAccount('5000', { currency });
        const to = (await api.openAccount({ currency })).id as string;
        const response = await api.transfer(from, to, '1234', { currency });
        expect(response.status, response.text).to.equal(201);
        expect((await api.account(to)).balance.posted).to.equal('1234');
      }
    });
  });

  describe('idempotency', () => {
    it('requires an Idempotency-Key: 400 idempotency-key-required, nothing written', async () => {
      const body = await validTransfer();
      const response = await harness.expectNothingWritten(() => api.post('/v1/transfers', body));
      expectProblem(response, 400, 'idempotency-key-required');
    });

    it('refuses a key longer than 255 characters with 400 naming the header', async () => {
      const body = await validTransfer();
      const key = 'x'.repeat(256);
      expectValidation(await harness.expectNothingWritten(() => api.post('/v1/transfers', body, { key })), 'headers.idempotency-key');
    });

    it('replays the same key and body: same status and body, Idempotent-Replayed, nothing new written', async () => {
      const body = await validTransfer();
      const key = uniqueKey();
      const first = await api.post('/v1/transfers', body, { key });
      expect(first.status, first.text).to.equal(201);
      expect(first.headers['idempotent-replayed']).to.equal(undefined);
      // Key order and spacing do not make another request.
      const reordered = `{ "currency": "EUR", "amount": "100", "toAccountId": "${body.toAccountId}", "fromAccountId": "${body.fromAccountId}" }`;
      for (const again of [body, reordered]) {
        const replay = await harness.expectNothingWritten(() => api.post('/v1/transfers', again, { key }));
        expect(replay.status).to.equal(201);
        expect(replay.body).to.deep.equal(first.body);
        expect(replay.headers['idempotent-replayed']).to.equal('true');
        expect(replay.headers.location).to.equal(first.headers.location);
      }
      expect((await api.account(body.fromAccountId)).balance.posted).to.equal('9900');
    });

    it('refuses the same key with another body or on another endpoint: 422 idempotency-key-reused, nothing written', async () => {
      const body = await validTransfer();
      const key = uniqueKey();
      expect((await api.post('/v1/transfers', body, { key })).status).to.equal(201);
      const otherAmount = await harness.expectNothingWritten(() => api.post('/v1/transfers', { ...body, amount: '101' }, { key }));
      expectProblem(otherAmount, 422, 'idempotency-key-reused');
      const otherEndpoint = await harness.expectNothingWritten(() =>
        api.post('/v1/deposits', { accountId: body.toAccountId, amount: '100', currency: 'EUR', reference: 'r' }, { key }),
      );
      expectProblem(otherEndpoint, 422, 'idempotency-key-reused');
      expect((await api.account(body.toAccountId)).balance.posted).to.equal('100');
    });

    it('leaves the key unused when the input is rejected, so the corrected request runs', async () => {
      const body = await validTransfer();
      const key = uniqueKey();
      expectValidation(await api.post('/v1/transfers', { ...body, amount: '1.00' }, { key }), 'body.amount');
      const corrected = await api.post('/v1/transfers', body, { key });
      expect(corrected.status, corrected.text).to.equal(201);
      expect(corrected.headers['idempotent-replayed']).to.equal(undefined);
    });
  });

  describe('business rejections', () => {
    it('refuses insufficient funds with 422 and the available balance, and remembers the rejection', async () => {
      const from = await api.openFundedAccount('300', { overdraftLimit: '50' });
      const to = (await api.openAccount()).id as string;
      const key = uniqueKey();
      const first = await expectNoLedgerWrite(() => api.transfer(from, to, '351', { key }));
      const problem = expectProblem(first, 422, 'insufficient-funds');
      expect(problem).to.include({ accountId: from, available: '350', requested: '351', currency: 'EUR' });

      // Funded since, the account could pay now; the key still answers what it answered.
      expect((await api.deposit(from, '1000')).status).to.equal(201);
      const retry = await harness.expectNothingWritten(() => api.transfer(from, to, '351', { key }));
      expect(retry.status).to.equal(422);
      expect(retry.body).to.deep.equal(first.body);
      expect(retry.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(retry.headers['idempotent-replayed']).to.equal('true');
      expect((await api.account(from)).balance.posted).to.equal('1300');
      expect((await api.account(to)).balance.posted).to.equal('0');
    });

    it('fails a transfer to a frozen account (201, failed, account-frozen) and gives the source its money back', async () => {
      const from = await api.openFundedAccount('1000');
      const to = (await api.openAccount()).id as string;
      expect((await api.post(`/v1/accounts/${to}/freeze`, {})).status).to.equal(200);
      const response = await api.transfer(from, to, '400');
      expect(response.status, response.text).to.equal(201);
      expect(response.body.status).to.equal('failed');
      expect(response.body.failureReason.type).to.equal('account-frozen');
      expect(response.body.failureReason.detail).to.be.a('string').and.not.equal('');
      expect(response.body).to.have.property('failedAt').that.is.a('string');
      expect(response.body).not.to.have.property('completedAt');

      expect((await api.account(from)).balance).to.deep.equal({ posted: '1000', pending: '0', available: '1000' });
      expect((await api.account(to)).balance.posted).to.equal('0');
      // Compensated by an explicit reversal, not by forgetting the debit.
      const legs = (await readAllEvents(harness.store))
        .filter((event) => event.streamName === `account-${from}` && ['AccountDebited', 'AccountCredited'].includes(event.type))
        .map((event) => event.data as { journal: { id: string; leg: string } })
        .filter((data) => data.journal.id === response.body.id)
        .map((data) => data.journal.leg);
      expect(legs).to.have.members(['first', 'reversal']);
      const outcome = (await readAllEvents(harness.store)).find((event) => event.streamName === `transfer-${response.body.id}`);
      expect(outcome?.type).to.equal('TransferFailed');
    });

    it('fails a transfer to a closed account with account-closed', async () => {
      const from = await api.openFundedAccount('1000');
      const to = (await api.openAccount()).id as string;
      expect((await api.post(`/v1/accounts/${to}/close`, {})).status).to.equal(200);
      const response = await api.transfer(from, to, '10');
      expect(response.status, response.text).to.equal(201);
      expect(response.body.status).to.equal('failed');
      expect(response.body.failureReason.type).to.equal('account-closed');
      expect(await api.available(from)).to.equal('1000');
    });

    it('refuses a transfer out of a frozen account with 409 account-frozen, writing no posting', async () => {
      const from = await api.openFundedAccount('1000');
      const to = (await api.openAccount()).id as string;
      await api.post(`/v1/accounts/${from}/freeze`, {});
      const problem = expectProblem(await expectNoLedgerWrite(() => api.transfer(from, to, '10')), 409, 'account-frozen');
      expect(problem.currentState).to.equal('frozen');
    });

    it('refuses a missing destination with 404, writing no posting', async () => {
      const from = await api.openFundedAccount('1000');
      const response = await expectNoLedgerWrite(() => api.transfer(from, '7300000000000000099', '10'));
      expect(expectProblem(response, 404, 'account-not-found').accountId).to.equal('7300000000000000099');
      expect(await api.available(from)).to.equal('1000');
    });

    it('refuses a missing source with 404, writing no posting', async () => {
      const to = (await api.openAccount()).id as string;
      const response = await expectNoLedgerWrite(() => api.transfer('7300000000000000098', to, '10'));
      expect(expectProblem(response, 404, 'account-not-found').accountId).to.equal('7300000000000000098');
    });

    it('refuses a currency other than the destination’s with 422 currency-mismatch, writing no posting', async () => {
      const from = await api.openFundedAccount('1000');
      const to = (await api.openAccount({ currency: 'USD' })).id as string;
      const problem = expectProblem(await expectNoLedgerWrite(() => api.transfer(from, to, '10')), 422, 'currency-mismatch');
      expect(problem).to.include({ accountId: to, accountCurrency: 'USD', requestedCurrency: 'EUR' });
      expect(await api.available(from)).to.equal('1000');
    });

    it('refuses a currency other than the source’s with 422 currency-mismatch, writing no posting', async () => {
      const from = await api.openFundedAccount('1000', { currency: 'USD' });
      const to = (await api.openAccount({ currency: 'EUR' })).id as string;
      expectProblem(await expectNoLedgerWrite(() => api.transfer(from, to, '10', { currency: 'EUR' })), 422, 'currency-mismatch');
    });

    it('refuses a transfer out of a system account: a caller must not be able to draw on the bank account', async () => {
      const to = await api.openFundedAccount('1'); // the EUR bank account exists from here on
      const bank = systemAccountId({ role: 'bank', currency: 'EUR' });
      const response = await expectNoLedgerWrite(() => api.transfer(bank, to, '1000000'));
      expect(response.status, `transfer out of the bank account: ${response.text}`).to.be.within(400, 499);
      expect(await api.available(to)).to.equal('1');
    });

    it('refuses a transfer into a system account', async () => {
      const from = await api.openFundedAccount('100');
      const bank = systemAccountId({ role: 'bank', currency: 'EUR' });
      const response = await expectNoLedgerWrite(() => api.transfer(from, bank, '100'));
      expect(response.status, `transfer into the bank account: ${response.text}`).to.be.within(400, 499);
      expect(await api.available(from)).to.equal('100');
    });
  });

  describe('input checks (400, nothing written, never a 500)', () => {
    it('refuses the same account on both sides', async () => {
      const from = await api.openFundedAccount('1000');
      const response = await harness.expectNothingWritten(() => api.transfer(from, from, '10'));
      expectValidation(response, 'body.toAccountId');
    });

    const badAmounts: [string, unknown][] = [
      ['the number 10.5', 10.5],
      ['the string "10.5"', '10.5'],
      ['exponent notation "1e3"', '1e3'],
      ['negative zero "-0"', '-0'],
      ['zero "0"', '0'],
      ['a negative amount "-5"', '-5'],
      ['digit grouping "1,050"', '1,050'],
      ['a leading zero "0100"', '0100'],
      ['a plus sign "+100"', '+100'],
      ['spaces " 100"', ' 100'],
      ['the number 1050', 1050],
      ['the empty string', ''],
      ['null', null],
      ['one past the money bound', (MAX_MINOR_UNITS + 1n).toString()],
      ['a 40-digit amount', '9'.repeat(40)],
    ];
    for (const [what, amount] of badAmounts) {
      it(`refuses the amount ${what} naming body.amount`, async () => {
        const body = { ...(await validTransfer()), amount };
        expectValidation(await harness.expectNothingWritten(() => api.post('/v1/transfers', body, { key: uniqueKey() })), 'body.amount');
      });
    }

    it('refuses a missing amount and an unknown currency, naming both', async () => {
      const { amount: _amount, ...body } = await validTransfer();
      const response = await harness.expectNothingWritten(() => api.post('/v1/transfers', { ...body, currency: 'EUX' }, { key: uniqueKey() }));
      expectValidation(response, 'body.amount', 'body.currency');
    });

    it('refuses malformed account ids naming each', async () => {
      const body = { ...(await validTransfer()), fromAccountId: 12, toAccountId: '07' };
      expectValidation(
        await harness.expectNothingWritten(() => api.post('/v1/transfers', body, { key: uniqueKey() })),
        'body.fromAccountId',
        'body.toAccountId',
      );
    });

    it('refuses an unknown field (a misspelt optional one) naming it', async () => {
      const body = { ...(await validTransfer()), descripton: 'typo' };
      expectValidation(await harness.expectNothingWritten(() => api.post('/v1/transfers', body, { key: uniqueKey() })), 'body.descripton');
    });

    it('refuses __proto__ at the top level and inside metadata', async () => {
      const body = await validTransfer();
      const json = JSON.stringify(body);
      for (const text of [
        json.replace(/}$/, ',"__proto__":{"amount":"1"}}'),
        json.replace(/}$/, ',"metadata":{"__proto__":"x"}}'),
      ]) {
        const response = await harness.expectNothingWritten(() => api.post('/v1/transfers', text, { key: uniqueKey() }));
        expect(expectValidation(response).errors.map((e: { path: string }) => e.path).join()).to.match(/__proto__/);
      }
    });

    it('keeps metadata within its limits: 50 keys of 40 characters, values of 500', async () => {
      const body = await validTransfer();
      const atLimit = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${String(i).padStart(39, '0')}`, 'v'.repeat(500)]));
      const accepted = await api.post('/v1/transfers', { ...body, metadata: atLimit }, { key: uniqueKey() });
      expect(accepted.status, accepted.text).to.equal(201);
      expect(accepted.body.metadata).to.deep.equal(atLimit);

      const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
      const refusals: [Record<string, unknown>, string][] = [
        [tooMany, 'body.metadata'],
        [{ note: 'v'.repeat(501) }, 'body.metadata.note'],
        [{ ['k'.repeat(41)]: 'v' }, 'body.metadata'],
        [{ 'bad key': 'v' }, 'body.metadata'],
        [{ constructor: 'v' }, 'body.metadata'],
        [{ nested: { deep: 'v' } }, 'body.metadata.nested'],
        [{ count: 3 }, 'body.metadata.count'],
        [{ line: 'a\nb' }, 'body.metadata.line'],
      ];
      for (const [metadata, path] of refusals) {
        const response = await harness.expectNothingWritten(() => api.post('/v1/transfers', { ...body, metadata }, { key: uniqueKey() }));
        expect(response.status, `${JSON.stringify(metadata).slice(0, 60)}: ${response.text}`).to.equal(400);
        const paths = response.body.errors.map((issue: { path: string }) => issue.path);
        expect(paths.some((p: string) => p.startsWith(path)), `${path} in ${paths}`).to.equal(true);
      }
    });

    it('refuses a reference over 140 characters and a description with control characters', async () => {
      const body = await validTransfer();
      expectValidation(
        await harness.expectNothingWritten(() => api.post('/v1/transfers', { ...body, reference: 'r'.repeat(141) }, { key: uniqueKey() })),
        'body.reference',
      );
      expectValidation(
        await harness.expectNothingWritten(() => api.post('/v1/transfers', { ...body, description: 'a\u0000b' }, { key: uniqueKey() })),
        'body.description',
      );
    });

    it('refuses a body that is not plain UTF-8 JSON with 415: text/plain, no Content-Type, another charset, gzip', async () => {
      const body = JSON.stringify(await validTransfer());
      const plain = await harness.expectNothingWritten(() =>
        api.post('/v1/transfers', body, { key: uniqueKey(), headers: { 'content-type': 'text/plain' } }),
      );
      expect(expectProblem(plain, 415, 'unsupported-media-type').supported).to.deep.equal(['application/json']);
      const untyped = await harness.expectNothingWritten(() =>
        api.raw({
          method: 'POST',
          path: '/v1/transfers',
          headers: { 'idempotency-key': uniqueKey(), 'content-length': String(Buffer.byteLength(body)) },
          chunks: [body],
        }),
      );
      expectProblem(untyped, 415, 'unsupported-media-type');
      const latin1 = await harness.expectNothingWritten(() =>
        api.post('/v1/transfers', body, { key: uniqueKey(), headers: { 'content-type': 'application/json; charset=latin1' } }),
      );
      expectProblem(latin1, 415, 'unsupported-media-type');
      const gzipped = await harness.expectNothingWritten(() =>
        api.post('/v1/transfers', body, { key: uniqueKey(), headers: { 'content-encoding': 'gzip' } }),
      );
      expectProblem(gzipped, 415, 'unsupported-media-type');
    });

    it('refuses a body over 64 KiB with 413, whether its length is declared or streamed', async () => {
      const body = { ...(await validTransfer()), description: 'x'.repeat(70 * 1024) };
      const declared = await harness.expectNothingWritten(() => api.post('/v1/transfers', body, { key: uniqueKey() }));
      expectProblem(declared, 413, 'payload-too-large');
      const chunk = Buffer.alloc(8 * 1024, ' ');
      const streamed = await harness.expectNothingWritten(() =>
        api.raw({
          method: 'POST',
          path: '/v1/transfers',
          headers: { 'content-type': 'application/json', 'idempotency-key': uniqueKey(), 'transfer-encoding': 'chunked' },
          chunks: ['{"amount":"1","pad":"', ...Array.from({ length: 9 }, () => chunk), '"}'],
        }),
      );
      expectProblem(streamed, 413, 'payload-too-large');
    });

    it('refuses malformed JSON with 400 malformed-json', async () => {
      for (const text of ['{"amount": "1"', '{amount: 1}', "{'a':1}", '{"a":1}}']) {
        const response = await harness.expectNothingWritten(() => api.post('/v1/transfers', text, { key: uniqueKey() }));
        expectProblem(response, 400, 'malformed-json');
      }
    });

    it('refuses a JSON value that is not an object, and an empty body, with 400', async () => {
      for (const text of ['"text"', '42', 'null', '[{"amount":"1"}]']) {
        const response = await harness.expectNothingWritten(() => api.post('/v1/transfers', text, { key: uniqueKey() }));
        expectValidation(response, 'body');
      }
      const empty = await harness.expectNothingWritten(() =>
        api.raw({ method: 'POST', path: '/v1/transfers', headers: { 'idempotency-key': uniqueKey(), 'content-length': '0' } }),
      );
      expectValidation(empty, 'body.fromAccountId', 'body.amount');
    });

    it('answers an unknown route with a 404 problem, not HTML', async () => {
      const response = await api.post('/v1/transferz', {}, { key: uniqueKey() });
      expectProblem(response, 404, 'route-not-found');
    });
  });

  describe('deposits', () => {
    it('credits the account: 201 with the deposit, its Location and position', async () => {
      const { id } = await api.openAccount();
      const response = await api.post('/v1/deposits', { accountId: id, amount: '2500', currency: 'EUR', reference: 'wire 881' }, { key: uniqueKey() });
      expect(response.status, response.text).to.equal(201);
      expect(response.body).to.include({ status: 'completed', accountId: id, amount: '2500', currency: 'EUR', reference: 'wire 881' });
      expect(response.body.id).to.match(DIGITS);
      expect(response.body.position).to.match(DIGITS);
      expect(response.headers.location).to.equal(`/v1/deposits/${response.body.id}`);
      expect((await api.account(id)).balance.posted).to.equal('2500');
    });

    it('requires an Idempotency-Key', async () => {
      const { id } = await api.openAccount();
      const body = { accountId: id, amount: '1', currency: 'EUR', reference: 'r' };
      expectProblem(await harness.expectNothingWritten(() => api.post('/v1/deposits', body)), 400, 'idempotency-key-required');
    });

    it('credits once per key', async () => {
      const { id } = await api.openAccount();
      const key = uniqueKey();
      const body = { accountId: id, amount: '70', currency: 'EUR', reference: 'r' };
      const first = await api.post('/v1/deposits', body, { key });
      const again = await harness.expectNothingWritten(() => api.post('/v1/deposits', body, { key }));
      expect(again.body).to.deep.equal(first.body);
      expect(again.headers['idempotent-replayed']).to.equal('true');
      expect((await api.account(id)).balance.posted).to.equal('70');
    });

    it('refuses a frozen account with 409 account-frozen, writing no posting', async () => {
      const { id } = await api.openAccount();
      await api.post(`/v1/accounts/${id}/freeze`, {});
      const response = await expectNoLedgerWrite(() => api.deposit(id, '10'));
      expect(expectProblem(response, 409, 'account-frozen').currentState).to.equal('frozen');
      expect((await api.account(id)).balance.posted).to.equal('0');
    });

    it('refuses an unknown account with 404, writing no posting', async () => {
      expectProblem(await expectNoLedgerWrite(() => api.deposit('7300000000000000097', '10')), 404, 'account-not-found');
    });

    it('refuses a currency other than the account’s with 422 currency-mismatch', async () => {
      const { id } = await api.openAccount({ currency: 'GBP' });
      expectProblem(await expectNoLedgerWrite(() => api.deposit(id, '10', 'EUR')), 422, 'currency-mismatch');
    });

    it('refuses bad input with 400 naming each field', async () => {
      const { id } = await api.openAccount();
      const response = await harness.expectNothingWritten(() =>
        api.post('/v1/deposits', { accountId: id, amount: '1.5', currency: 'EUR', extra: 1 }, { key: uniqueKey() }),
      );
      expectValidation(response, 'body.amount', 'body.reference', 'body.extra');
    });

    it('refuses a deposit into a system account (deposits credit customer and merchant accounts)', async () => {
      await api.openFundedAccount('1'); // the EUR bank account exists from here on
      const bank = systemAccountId({ role: 'bank', currency: 'EUR' });
      const response = await expectNoLedgerWrite(() => api.deposit(bank, '10'));
      expect(response.status, response.text).to.be.within(400, 499);
    });

    it('keeps a balance readable when deposits push it past the money bound (never a 500, never a 400 on a GET)', async () => {
      const { id } = await api.openAccount();
      const max = MAX_MINOR_UNITS.toString();
      expect((await api.deposit(id, max)).status).to.equal(201);
      const second = await api.deposit(id, max);
      // Either the second deposit is refused, or the account can still be read.
      if (second.status === 201) {
        const read = await api.get(`/v1/accounts/${id}`);
        expect(read.status, `GET after two deposits of ${max}: ${read.text}`).to.equal(200);
      } else {
        expect(second.status, second.text).to.be.within(400, 499);
      }
    });
  });

  describe('the books afterwards', () => {
    it('balance: every journal sums to zero, Σ balances + in transit = 0, no account overdrawn', async () => {
      const report = await expectBooksBalanced(harness.store);
      expect(report.failedJournals).to.be.greaterThan(0);
      expect(report.openJournals).to.equal(0);
    });
  });
});
