import type { Books } from './ledgerBooks.js';
import { call, mustCall } from './httpCall.js';
import type { Operation } from './operation.js';
import type { SeededRandom } from './seededRandom.js';

const CURRENCY = 'EUR';
const PROVIDER = 'sandbox';
const LEGAL_STATES = new Set(['CREATED', 'PENDING', 'PAID', 'SETTLED', 'FAILED', 'REFUNDED']);
const isLegalState = (state: unknown): boolean => typeof state === 'string' && LEGAL_STATES.has(state);
const REFUSALS = new Set([
  'urn:folio:problem:illegal-payment-transition',
  'urn:folio:problem:refund-exceeds-captured',
]);

/**
 * Payments through the in-process sandbox provider (which captures, fails and settles them with
 * signed callbacks, late and sometimes twice), refunds of them, and payouts out of the customer
 * accounts. The merchants take payments only, so their balances must equal Σ captured − Σ refunded.
 */
export const createPaymentWorkload = async (
  base: string,
  random: SeededRandom,
  runId: string,
  payoutAccounts: readonly string[],
) => {
  const merchants: string[] = [];
  for (let i = 0; i < 4; i++) {
    const merchant = await mustCall(base, 'POST', '/v1/accounts', {
      body: { ownerId: `soak-${runId}-shop-${i}`, currency: CURRENCY, kind: 'merchant' },
    });
    merchants.push(merchant.id as string);
  }
  const payments: string[] = [];
  let sequence = 0;

  const submit = (paymentId: string): Operation => ({
    kind: 'payment submit',
    method: 'POST',
    path: `/v1/payments/${paymentId}/submit`,
    body: {},
    key: `soak-${runId}-submit-${paymentId}`,
    judge: (answer) =>
      answer.status === 200 || (answer.status === 409 && REFUSALS.has(answer.body?.type))
        ? undefined
        : `submit ${paymentId}: ${answer.status} ${JSON.stringify(answer.body)}`,
  });

  const create = (): Operation => {
    const key = `soak-${runId}-p${++sequence}`;
    return {
      kind: 'payment',
      method: 'POST',
      path: '/v1/payments',
      body: {
        merchantAccountId: random.pick(merchants),
        amount: String(random.between(100, 50_000)),
        currency: CURRENCY,
        provider: PROVIDER,
        description: 'soak order',
        customerRef: key,
      },
      key,
      judge: (answer) => (answer.status === 201 ? undefined : `payment ${key}: ${answer.status} ${JSON.stringify(answer.body)}`),
      followUp: (answer) => {
        if (answer.status !== 201) return undefined;
        payments.push(answer.body.id as string);
        return submit(answer.body.id as string);
      },
    };
  };

  const refund = (): Operation => {
    const paymentId = random.pick(payments);
    const key = `soak-${runId}-r${++sequence}`;
    return {
      kind: 'refund',
      method: 'POST',
      path: `/v1/payments/${paymentId}/refunds`,
      body: { amount: String(random.between(1, 20_000)) },
      key,
      judge: (answer) =>
        answer.status === 201 || (answer.status >= 400 && REFUSALS.has(answer.body?.type))
          ? undefined
          : `refund ${key}: ${answer.status} ${JSON.stringify(answer.body)}`,
    };
  };

  const payout = (): Operation => {
    const key = `soak-${runId}-o${++sequence}`;
    return {
      kind: 'payout',
      method: 'POST',
      path: '/v1/payouts',
      body: {
        accountId: random.pick(payoutAccounts),
        amount: String(random.between(100, 30_000)),
        currency: CURRENCY,
        provider: PROVIDER,
        destination: `DE89 3704 0044 0532 0130 ${String(sequence % 100).padStart(2, '0')}`,
      },
      key,
      judge: (answer) =>
        answer.status === 201 || (answer.status === 422 && answer.body?.type === 'urn:folio:problem:insufficient-funds')
          ? undefined
          : `payout ${key}: ${answer.status} ${JSON.stringify(answer.body)}`,
    };
  };

  return {
    merchants,
    next: (): Operation => {
      const roll = random.next();
      if (roll < 0.6 || payments.length === 0) return create();
      if (roll < 0.8) return refund();
      return payout();
    },
    /**
     * Every payment in a legal state, and every merchant holding exactly what its payments
     * captured less what they refunded, by the log.
     */
    problems: async (served: string, books: Books): Promise<string[]> => {
      const problems: string[] = [];
      const expected = new Map<string, bigint>(merchants.map((id) => [id, 0n]));
      for (const id of payments) {
        const { status, body } = await call(served, 'GET', `/v1/payments/${id}`);
        if (status !== 200 || !isLegalState(body?.state)) {
          problems.push(`payment ${id}: ${status} ${JSON.stringify(body)}`);
          continue;
        }
        const merchant = body.merchantAccountId as string;
        expected.set(merchant, (expected.get(merchant) ?? 0n) + BigInt(body.captured ?? '0') - BigInt(body.refunded ?? '0'));
      }
      for (const [merchant, amount] of expected) {
        const balance = books.report.balances.get(merchant)?.balance ?? 0n;
        if (balance !== amount) problems.push(`merchant ${merchant}: the log says ${balance}, its payments ${amount}`);
      }
      return problems;
    },
  };
};
