import { expect } from 'chai';
import { accountDecider, type AccountCommand } from '../../src/accounts/accountDecider.js';
import { AccountStateError, HoldNotOpenError, InsufficientFundsError } from '../../src/accounts/accountErrors.js';
import {
  availableBalance,
  pendingBalance,
  postedBalance,
  type AccountEvent,
  type OpenAccountState,
} from '../../src/accounts/accountState.js';
import type { EventPayload } from '../../src/commandHandling/decider.js';
import { deciderSpec } from '../deciderSpecification.js';

type Event = EventPayload<AccountEvent>;

const ACCOUNT = '7300000000000000001';
const BANK = '7300000000000000002';
const HOLD = '7300000000000000100';
const spec = deciderSpec(accountDecider);

const opened: Event = {
  type: 'AccountOpened',
  data: { accountId: ACCOUNT, ownerId: 'owner-1', currency: 'EUR', kind: 'merchant', overdraftLimit: 0n },
};
const funded: Event = {
  type: 'AccountCredited',
  data: {
    accountId: ACCOUNT,
    journal: { id: '7300000000000000200', kind: 'deposit', leg: 'first', counterpartyAccountId: BANK },
    amount: 1_000n,
    currency: 'EUR',
  },
};
const place = (amount: bigint, holdId = HOLD): AccountCommand => ({
  type: 'PlaceHold',
  accountId: ACCOUNT,
  holdId,
  amount,
  currency: 'EUR',
  purpose: 'payout',
});
const held = (amount: bigint, holdId = HOLD): Event => ({
  type: 'AccountFundsHeld',
  data: { accountId: ACCOUNT, holdId, amount, currency: 'EUR', purpose: 'payout' },
});
const heldDebit = (amount: bigint): AccountCommand => ({
  type: 'PostDebit',
  accountId: ACCOUNT,
  journal: { id: HOLD, kind: 'payout', leg: 'first', counterpartyAccountId: BANK },
  amount,
  currency: 'EUR',
  holdId: HOLD,
});

describe('account holds', () => {
  it('hold funds that count against the available balance, not the posted one', () => {
    const state = spec
      .given([opened, funded])
      .when(place(600n))
      .then([held(600n)]) as OpenAccountState;
    expect([postedBalance(state), pendingBalance(state), availableBalance(state)]).to.deep.equal([1_000n, -600n, 400n]);
  });

  it('refuse a hold beyond the available balance, other holds included', () => {
    spec
      .given([opened, funded, held(600n)])
      .when(place(401n, '7300000000000000101'))
      .thenThrows(InsufficientFundsError, {
        type: 'insufficient-funds',
        status: 422,
        extensions: { accountId: ACCOUNT, available: '400', requested: '401', currency: 'EUR' },
      });
  });

  it('refuse a hold on a frozen account', () => {
    spec
      .given([opened, funded, { type: 'AccountFrozen', data: { accountId: ACCOUNT } }])
      .when(place(1n))
      .thenThrows(AccountStateError);
  });

  it('post a hold as a debit in one append, whatever the account status is now', () => {
    const state = spec
      .given([opened, funded, held(600n), { type: 'AccountFrozen', data: { accountId: ACCOUNT } }])
      .when(heldDebit(600n))
      .then([
        {
          type: 'AccountHoldReleased',
          data: { accountId: ACCOUNT, holdId: HOLD, amount: 600n, currency: 'EUR', outcome: 'posted' },
        },
        {
          type: 'AccountDebited',
          data: {
            accountId: ACCOUNT,
            journal: { id: HOLD, kind: 'payout', leg: 'first', counterpartyAccountId: BANK },
            amount: 600n,
            currency: 'EUR',
          },
        },
      ]) as OpenAccountState;
    expect([postedBalance(state), pendingBalance(state), availableBalance(state)]).to.deep.equal([400n, 0n, 400n]);
  });

  it('refuse to post a hold that is not open, or for another amount', () => {
    spec.given([opened, funded]).when(heldDebit(600n)).thenThrows(HoldNotOpenError, { type: 'hold-not-open', status: 409 });
    spec
      .given([opened, funded, held(600n)])
      .when(heldDebit(500n))
      .thenThrows(HoldNotOpenError);
  });

  it('release a hold once; releasing it again changes nothing', () => {
    const release: AccountCommand = { type: 'ReleaseHold', accountId: ACCOUNT, holdId: HOLD, reason: 'timed out' };
    const state = spec
      .given([opened, funded, held(600n)])
      .when(release)
      .then([
        {
          type: 'AccountHoldReleased',
          data: { accountId: ACCOUNT, holdId: HOLD, amount: 600n, currency: 'EUR', outcome: 'released', reason: 'timed out' },
        },
      ]) as OpenAccountState;
    expect(availableBalance(state)).to.equal(1_000n);
    expect(accountDecider.decide(release, state)).to.deep.equal([]);
  });
});
