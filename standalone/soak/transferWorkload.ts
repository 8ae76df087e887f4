import { mustCall } from './httpCall.js';
import type { Operation } from './operation.js';
import type { SeededRandom } from './seededRandom.js';

const INSUFFICIENT_FUNDS = 'urn:folio:problem:insufficient-funds';
const CURRENCY = 'EUR';

/**
 * Accounts, deposits and transfers: transfers that complete, that are refused for insufficient
 * funds, and that fail on a frozen destination and are compensated.
 */
export const createTransferWorkload = async (base: string, random: SeededRandom, runId: string, accountCount: number) => {
  const accounts: string[] = [];
  for (let i = 0; i < accountCount; i++) {
    const account = await mustCall(base, 'POST', '/v1/accounts', {
      body: { ownerId: `soak-${runId}-${i}`, currency: CURRENCY, kind: i % 5 === 0 ? 'merchant' : 'customer' },
    });
    accounts.push(account.id as string);
    await mustCall(base, 'POST', '/v1/deposits', {
      body: { accountId: account.id, amount: '500000', currency: CURRENCY, reference: `soak-${runId}-seed-${i}` },
      key: `soak-${runId}-seed-${i}`,
    });
  }
  const frozen = accounts.at(-1)!;
  await mustCall(base, 'POST', `/v1/accounts/${frozen}/freeze`, { body: { reason: 'soak: refuses credits' } });
  const spendable = accounts.filter((id) => id !== frozen);
  let sequence = 0;

  const transfer = (): Operation => {
    const key = `soak-${runId}-t${++sequence}`;
    const fromAccountId = random.pick(spendable);
    const toFrozen = random.next() < 0.08;
    const toAccountId = toFrozen ? frozen : random.pick(spendable.filter((id) => id !== fromAccountId));
    const amount = random.next() < 0.05 ? random.between(2_000_000, 9_000_000) : random.between(1, 5_000);
    return {
      kind: 'transfer',
      method: 'POST',
      path: '/v1/transfers',
      body: { fromAccountId, toAccountId, amount: String(amount), currency: CURRENCY, reference: key, description: 'soak transfer' },
      key,
      judge: (answer) => {
        if (answer.status === 201) {
          const expected = toFrozen ? 'failed' : 'completed';
          return answer.body?.status === expected ? undefined : `transfer ${key}: ${answer.body?.status}, expected ${expected}`;
        }
        if (answer.status === 422 && answer.body?.type === INSUFFICIENT_FUNDS) return undefined;
        return `transfer ${key}: ${answer.status} ${JSON.stringify(answer.body)}`;
      },
    };
  };

  const deposit = (): Operation => {
    const key = `soak-${runId}-d${++sequence}`;
    return {
      kind: 'deposit',
      method: 'POST',
      path: '/v1/deposits',
      body: { accountId: random.pick(spendable), amount: String(random.between(100, 20_000)), currency: CURRENCY, reference: key },
      key,
      judge: (answer) => (answer.status === 201 ? undefined : `deposit ${key}: ${answer.status} ${JSON.stringify(answer.body)}`),
    };
  };

  const readAccount = (): Operation => {
    const id = random.pick(accounts);
    return {
      kind: 'read-account',
      method: 'GET',
      path: `/v1/accounts/${id}`,
      judge: (answer) => (answer.status === 200 ? undefined : `read ${id}: ${answer.status}`),
    };
  };

  return {
    accounts,
    frozen,
    next: (): Operation => {
      const roll = random.next();
      if (roll < 0.75) return transfer();
      if (roll < 0.9) return deposit();
      return readAccount();
    },
  };
};
