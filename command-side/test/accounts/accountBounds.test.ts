import { expect } from 'chai';
import { MAX_MINOR_UNITS, ValidationError, type JournalLeg } from '@folio/shared';
import { accountDecider, MAX_OVERDRAFT_LIMIT, type AccountCommand } from '../../src/accounts/accountDecider.js';
import { BalanceOutOfRangeError } from '../../src/accounts/accountErrors.js';
import { availableBalance, type AccountEvent } from '../../src/accounts/accountState.js';
import type { EventPayload } from '../../src/commandHandling/decider.js';
import { deciderSpec } from '../deciderSpecification.js';

type Event = EventPayload<AccountEvent>;
type PostingCommand = Extract<AccountCommand, { type: 'PostDebit' | 'PostCredit' }>;

const ACCOUNT = '7300000000000000001';
const spec = deciderSpec(accountDecider);

const open = (overdraftLimit: bigint): AccountCommand => ({
  type: 'OpenAccount',
  accountId: ACCOUNT,
  ownerId: 'owner-1',
  currency: 'EUR',
  kind: 'customer',
  overdraftLimit,
});

const opened = (overdraftLimit: bigint): Event => {
  const { type: _type, ...data } = open(overdraftLimit) as Extract<AccountCommand, { type: 'OpenAccount' }>;
  return { type: 'AccountOpened', data };
};

const posting = (type: PostingCommand['type'], amount: bigint, journalId: string, leg: JournalLeg = 'first'): PostingCommand => ({
  type,
  accountId: ACCOUNT,
  journal: { id: journalId, kind: 'transfer', leg, counterpartyAccountId: '7300000000000000002' },
  amount,
  currency: 'EUR',
});

const posted = (command: PostingCommand): Event => {
  const { type, ...data } = command;
  return { type: type === 'PostDebit' ? 'AccountDebited' : 'AccountCredited', data };
};

describe('accountDecider: the money bound', () => {
  describe('the overdraft limit', () => {
    it('is capped at half the money bound when an account is opened', () => {
      expect(MAX_OVERDRAFT_LIMIT).to.equal(MAX_MINOR_UNITS / 2n);
      spec.given([]).when(open(MAX_OVERDRAFT_LIMIT)).then([opened(MAX_OVERDRAFT_LIMIT)]);
      for (const limit of [MAX_OVERDRAFT_LIMIT + 1n, MAX_MINOR_UNITS]) {
        const error = spec.given([]).when(open(limit)).thenThrows(ValidationError, { type: 'validation', status: 400 });
        expect(error.issues.map((issue) => issue.path)).to.deep.equal(['overdraftLimit']);
      }
    });

    it('leaves an account at the cap room to hold more than it may owe', () => {
      const room = MAX_MINOR_UNITS - MAX_OVERDRAFT_LIMIT;
      expect(room > MAX_OVERDRAFT_LIMIT).to.equal(true);
      const deposit = posting('PostCredit', room, '7300000000000000100');
      const state = spec.given([opened(MAX_OVERDRAFT_LIMIT)]).when(deposit).then([posted(deposit)]);
      expect(state.exists && availableBalance(state)).to.equal(MAX_MINOR_UNITS);
    });
  });

  describe('a reversal at the bound', () => {
    const limit = 1_000n;
    const filled = posted(posting('PostCredit', MAX_MINOR_UNITS - limit, '7300000000000000100'));
    const debit = posted(posting('PostDebit', 50n, '7300000000000000101'));
    const reversal = posting('PostCredit', 50n, '7300000000000000101', 'reversal');

    it('puts back what its first leg took, up to the bound', () => {
      const state = spec.given([opened(limit), filled, debit, { type: 'AccountFrozen', data: { accountId: ACCOUNT } }])
        .when(reversal)
        .then([posted(reversal)]);
      expect(state.exists && availableBalance(state)).to.equal(MAX_MINOR_UNITS);
    });

    it('is refused only when postings between its legs filled the room the first leg freed', () => {
      const refilled = posted(posting('PostCredit', 50n, '7300000000000000102'));
      spec.given([opened(limit), filled, debit, refilled]).when(reversal).thenThrows(BalanceOutOfRangeError, {
        type: 'balance-out-of-range',
        status: 422,
      });
    });
  });
});
