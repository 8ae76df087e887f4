import { expect } from 'chai';
import { expectValidation, ReadStack } from './readStack.js';

describe('read API: bad parameters are 400 problems naming them, never 500', () => {
  let stack: ReadStack;
  let account: string;

  before(async () => {
    stack = await ReadStack.start();
    account = await stack.openAccount();
    await stack.deposit(account, '100', 'funding');
    await stack.settle();
  });

  after(() => stack.stop());

  const cases: [string, () => string, string][] = [
    ['an unknown parameter', () => '/v1/transactions?colour=red', 'query.colour'],
    ['a misspelt one', () => '/v1/transactions?minamount=5', 'query.minamount'],
    ['a key reaching the prototype', () => '/v1/transactions?__proto__=1', 'query.__proto__'],
    ['a repeated parameter', () => '/v1/transactions?type=transfer&type=deposit', 'query.type'],
    ['a decimal amount', () => '/v1/transactions?minAmount=10.5', 'query.minAmount'],
    ['an amount with a comma', () => '/v1/transactions?maxAmount=1,000', 'query.maxAmount'],
    ['an amount in exponent form', () => '/v1/transactions?minAmount=1e3', 'query.minAmount'],
    ['a negative amount', () => '/v1/transactions?minAmount=-5', 'query.minAmount'],
    ['a signed amount', () => `/v1/transactions?minAmount=${encodeURIComponent('+5')}`, 'query.minAmount'],
    ['an amount with leading zeros', () => '/v1/transactions?maxAmount=007', 'query.maxAmount'],
    ['an empty amount', () => '/v1/transactions?minAmount=', 'query.minAmount'],
    ['an amount of letters', () => '/v1/transactions?maxAmount=ten', 'query.maxAmount'],
    ['an amount out of range', () => '/v1/transactions?maxAmount=99999999999999999999', 'query.maxAmount'],
    ['an amount range upside down', () => '/v1/transactions?minAmount=10&maxAmount=5', 'query.maxAmount'],
    ['a date that does not exist', () => '/v1/transactions?from=2026-02-30', 'query.from'],
    ['a month that does not exist', () => '/v1/transactions?to=2026-13-01', 'query.to'],
    ['an hour that does not exist', () => '/v1/transactions?from=2026-03-01T25:00:00Z', 'query.from'],
    ['a timestamp without a zone', () => '/v1/transactions?from=2026-03-01T10:00:00', 'query.from'],
    ['a timestamp in words', () => '/v1/transactions?to=yesterday', 'query.to'],
    ['a timestamp in epoch milliseconds', () => '/v1/transactions?from=1772359200000', 'query.from'],
    ['more than millisecond precision', () => '/v1/transactions?from=2026-03-01T10:00:00.0001Z', 'query.from'],
    ['a time range upside down', () => '/v1/transactions?from=2026-03-02&to=2026-03-01', 'query.to'],
    ['an unknown sort', () => '/v1/transactions?sort=newest', 'query.sort'],
    ['a sort in the wrong case', () => '/v1/transactions?sort=requestedat', 'query.sort'],
    ['a sort on a field it does not sort by', () => '/v1/transactions?sort=currency', 'query.sort'],
    ['a cursor it did not issue', () => '/v1/transactions?cursor=abc', 'query.cursor'],
    ['an empty cursor', () => '/v1/transactions?cursor=', 'query.cursor'],
    ['limit 0', () => '/v1/transactions?limit=0', 'query.limit'],
    ['limit 101', () => '/v1/transactions?limit=101', 'query.limit'],
    ['limit abc', () => '/v1/transactions?limit=abc', 'query.limit'],
    ['a fractional limit', () => '/v1/transactions?limit=2.5', 'query.limit'],
    ['a negative limit', () => '/v1/transactions?limit=-1', 'query.limit'],
    ['an empty limit', () => '/v1/transactions?limit=', 'query.limit'],
    ['an unknown type', () => '/v1/transactions?type=payment', 'query.type'],
    ['an unknown status', () => '/v1/transactions?status=done', 'query.status'],
    ['a lower-case currency', () => '/v1/transactions?currency=eur', 'query.currency'],
    ['an unknown currency', () => '/v1/transactions?currency=ABC', 'query.currency'],
    ['an account id of letters', () => '/v1/transactions?account=alice', 'query.account'],
    ['an account id with leading zeros', () => '/v1/transactions?account=0123', 'query.account'],
    ['an account id beyond 64 bits', () => '/v1/transactions?account=99999999999999999999', 'query.account'],
    ['search text too long', () => `/v1/transactions?q=${'a'.repeat(1001)}`, 'query.q'],
    ['search text of too many words', () => `/v1/transactions?q=${Array.from({ length: 40 }, (_, i) => `w${i}`).join('+')}`, 'query.q'],
    ['search text without a letter or digit', () => '/v1/transactions?q=%23', 'query.q'],
    ['a position of letters', () => '/v1/transactions?position=latest', 'query.position'],
    ['a negative position', () => `/v1/accounts/${account}/balance?position=-1`, 'query.position'],
    ['a fractional position', () => `/v1/accounts/${account}/balance?position=1.5`, 'query.position'],
    ['a position beyond 64 bits', () => '/v1/projections?position=9223372036854775808', 'query.position'],
    ['a transaction id of letters', () => '/v1/transactions/abc', 'params.id'],
    ['a negative transaction id', () => '/v1/transactions/-5', 'params.id'],
    ['an unknown parameter of a transaction', () => `/v1/transactions/123?expand=all`, 'query.expand'],
    ['an account id of letters (balance)', () => '/v1/accounts/abc/balance', 'params.id'],
    ['an account id with leading zeros (history)', () => '/v1/accounts/00/history', 'params.id'],
    ['an account id of letters (points)', () => '/v1/accounts/x1/balance-points', 'params.id'],
    ['a bad history cursor', () => `/v1/accounts/${account}/history?cursor=%E2%9C%93`, 'query.cursor'],
    ['a bad history cursor of an account that does not exist', () => '/v1/accounts/999/history?cursor=%E2%9C%93', 'query.cursor'],
    ['history limit 0', () => `/v1/accounts/${account}/history?limit=0`, 'query.limit'],
    ['history limit 101', () => `/v1/accounts/${account}/history?limit=101`, 'query.limit'],
    ['a history filter it does not take', () => `/v1/accounts/${account}/history?status=failed`, 'query.status'],
    ['a bad balance points date', () => `/v1/accounts/${account}/balance-points?from=2026-02-29`, 'query.from'],
    ['balance points limit 1001', () => `/v1/accounts/${account}/balance-points?limit=1001`, 'query.limit'],
    ['balance points limit 0', () => `/v1/accounts/${account}/balance-points?limit=0`, 'query.limit'],
    ['a balance points window upside down', () => `/v1/accounts/${account}/balance-points?from=2026-03-02&to=2026-03-01`, 'query.to'],
    ['an unknown balance parameter', () => `/v1/accounts/${account}/balance?at=now`, 'query.at'],
    ['an unknown projections parameter', () => '/v1/projections?name=history', 'query.name'],
    ['a bad position on a transaction', () => '/v1/transactions/123?position=1e3', 'query.position'],
    ['a bad position on a history', () => `/v1/accounts/${account}/history?position=0x10`, 'query.position'],
    ['a bad position on balance points', () => `/v1/accounts/${account}/balance-points?position=01`, 'query.position'],
    ['a repeated position', () => `/v1/accounts/${account}/balance?position=1&position=2`, 'query.position'],
    ['a repeated search text', () => '/v1/transactions?q=rent&q=salary', 'query.q'],
    ['a repeated cursor', () => '/v1/transactions?cursor=a&cursor=b', 'query.cursor'],
    ['a repeated amount bound', () => '/v1/transactions?minAmount=1&minAmount=2', 'query.minAmount'],
    ['a to of letters', () => '/v1/transactions?to=soon', 'query.to'],
    ['a currencies parameter it does not take', () => '/v1/currencies?code=EUR', 'query.code'],
    ['a bad position on currencies', () => '/v1/currencies?position=-3', 'query.position'],
    ['a payment id of letters', () => '/v1/payments/abc', 'params.id'],
    ['a payment id beyond 64 bits', () => '/v1/payments/99999999999999999999', 'params.id'],
    ['a bad position on a payment', () => '/v1/payments/123?position=-1', 'query.position'],
    ['an unknown parameter of a payment', () => '/v1/payments/123?expand=refunds', 'query.expand'],
    ['a payout id with leading zeros', () => '/v1/payouts/0123', 'params.id'],
    ['a payment id of letters (activity)', () => '/v1/payments/x/activity', 'params.id'],
    ['a bad position on a payout activity', () => '/v1/payouts/1/activity?position=-2', 'query.position'],
    ['a bad position on a payout', () => '/v1/payouts/123?position=abc', 'query.position'],
    ['a merchant id of letters', () => '/v1/payments?merchant=shop', 'query.merchant'],
    ['an unknown provider', () => '/v1/payments?provider=acme', 'query.provider'],
    ['an empty provider reference', () => '/v1/payments?providerRef=', 'query.providerRef'],
    ['a provider reference too long', () => `/v1/payments?providerRef=${'r'.repeat(141)}`, 'query.providerRef'],
    ['a payment state in lower case', () => '/v1/payments?state=paid', 'query.state'],
    ['an unknown payment state', () => '/v1/payments?state=DONE', 'query.state'],
    ['a payments cursor it did not issue', () => '/v1/payments?cursor=abc', 'query.cursor'],
    ['a payments cursor of another store', () => `/v1/payments?cursor=${Buffer.from(JSON.stringify({ f: 'x', a: 'y' })).toString('base64url')}`, 'query.cursor'],
    ['payments limit 0', () => '/v1/payments?limit=0', 'query.limit'],
    ['payments limit 101', () => '/v1/payments?limit=101', 'query.limit'],
    ['a repeated merchant', () => `/v1/payments?merchant=${account}&merchant=${account}`, 'query.merchant'],
    ['a bad position on payments', () => '/v1/payments?position=1.0', 'query.position'],
    ['an unknown payments parameter', () => '/v1/payments?amount=100', 'query.amount'],
    ['a transactions payment id of letters', () => '/v1/transactions?payment=abc', 'query.payment'],
  ];

  // Read from the query side alone: in one process the write API answers its payment paths first.
  for (const [what, path, parameter] of cases) {
    it(`${what} → 400 naming ${parameter}`, async () => {
      expectValidation(await stack.read(path()), parameter);
    });
  }

  it("tells to write a zone offset's + as %2B, which a query string reads as a space", async () => {
    for (const [path, parameter] of [
      ['/v1/transactions?from=2026-03-01T12:00:00+02:00', 'query.from'],
      [`/v1/accounts/${account}/balance-points?to=2026-03-01T12:00+01:00`, 'query.to'],
    ] as const) {
      const problem = expectValidation(await stack.read(path), parameter);
      const issue = problem.errors.find((error: { path: string }) => error.path === parameter);
      expect(issue.message, path).to.include('%2B');
      expect((await stack.read(path.replace('+', '%2B'))).status, path).to.equal(200);
    }
  });

  it('accepts the good forms next to the bad ones', async () => {
    for (const path of [
      '/v1/transactions?minAmount=0&maxAmount=999999999999999999',
      '/v1/transactions?from=2026-03-01T10:00Z&to=2026-03-01T12:00:00.5%2B02:00',
      '/v1/transactions?from=2024-02-29&to=2024-02-29',
      '/v1/transactions?q=&limit=1',
      '/v1/transactions?q=+&limit=1',
      `/v1/transactions?account=${account}&type=deposit&status=completed&currency=EUR&sort=-amount&limit=100`,
      `/v1/accounts/${account}/balance-points?from=2026-01-01T00:00:00.000Z&to=2026-12-31&limit=1000`,
      `/v1/accounts/${account}/history?limit=1&position=0`,
      `/v1/accounts/${account}/balance?position=0`,
      '/v1/projections?position=0',
      '/v1/currencies?position=0',
      '/v1/transactions?position=0&sort=amount&status=in_transit&type=transfer',
      '/v1/transactions?type=capture&payment=123',
      `/v1/payments?merchant=${account}&provider=sandbox&providerRef=pi_1&state=PAID&limit=100&position=0`,
      '/v1/payments?limit=1',
    ]) {
      const response = await stack.read(path);
      expect(response.status, `${path}: ${response.text}`).to.equal(200);
    }
  });
});
