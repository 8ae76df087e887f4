import { expect } from 'chai';
import { MAX_MINOR_UNITS } from '@folio/shared';
import { accountDecider, type AccountCommand } from '../../src/accounts/accountDecider.js';
import { BalanceOutOfRangeError } from '../../src/accounts/accountErrors.js';
import { availableBalance, type AccountEvent } from '../../src/accounts/accountState.js';
import { accountView } from '../../src/accounts/accountView.js';
import type { EventPayload } from '../../src/commandHandling/decider.js';
import { deciderSpec } from '../deciderSpecification.js';

type Event = EventPayload<AccountEvent>;

const ACCOUNT = '7300000000000000001';
const BANK = '7300000000000000002';
const HOLD = '7300000000000000100';
const LIMIT = 100n;
const spec = deciderSpec(accountDecider);

const opened: Event = {
  type: 'AccountOpened',
  data: { accountId: ACCOUNT, ownerId: 'owner-1', currency: 'EUR', kind: 'customer', overdraftLimit: LIMIT },
};
const credit = (amount: bigint, journalId: string): Extract<AccountCommand, { type: 'PostCredit' }> => ({
  type: 'PostCredit',
  accountId: ACCOUNT,
  journal: { id: journalId, kind: 'deposit', leg: 'first', counterpartyAccountId: BANK },
  amount,
  currency: 'EUR',
});
const credited = (amount: bigint, journalId: string): Event => {
  const { type: _type, ...data } = credit(amount, journalId);
  return { type: 'AccountCredited', data };
};
const held: Event = {
  type: 'AccountFundsHeld',
  data: { accountId: ACCOUNT, holdId: HOLD, amount: LIMIT, currency: 'EUR', purpose: 'payout' },
};
const release: AccountCommand = { type: 'ReleaseHold', accountId: ACCOUNT, holdId: HOLD };

describe('accountDecider: the money bound with money held', () => {
  it('refuses a credit that would take the available balance beyond the bound once a hold is released', () => {
    // The hold lowers the available balance for now only: released, it is the posted balance plus the limit again.
    spec.given([opened, credited(MAX_MINOR_UNITS - LIMIT, '7300000000000000200'), held])
      .when(credit(LIMIT, '7300000000000000201'))
      .thenThrows(BalanceOutOfRangeError, { type: 'balance-out-of-range', status: 422 });
  });

  it('takes credits up to the bound the account returns to, and its release keeps every figure readable', () => {
    const given = [opened, credited(MAX_MINOR_UNITS - 2n * LIMIT, '7300000000000000200'), held];
    const state = spec.given(given).when(credit(LIMIT, '7300000000000000201')).then([credited(LIMIT, '7300000000000000201')]);
    const [released] = accountDecider.decide(release, state);
    const after = accountDecider.evolve(state, released!);
    expect(after.exists && availableBalance(after)).to.equal(MAX_MINOR_UNITS);
    expect(after.exists && accountView(after, 4n, undefined).balance.available).to.equal(MAX_MINOR_UNITS.toString());
  });
});
