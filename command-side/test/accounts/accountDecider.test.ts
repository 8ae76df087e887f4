import { expect } from 'chai';
import fc from 'fast-check';
import { systemAccountId, type CurrencyCode, type JournalLeg, type Movement } from '@folio/shared';
import { accountDecider, type AccountCommand } from '../../src/accounts/accountDecider.js';
import {
  AccountAlreadyExistsError,
  AccountCurrencyMismatchError,
  AccountNotFoundError,
  AccountStateError,
  InsufficientFundsError,
} from '../../src/accounts/accountErrors.js';
import { availableBalance, postedBalance, type AccountEvent, type AccountState } from '../../src/accounts/accountState.js';
import type { EventPayload } from '../../src/commandHandling/decider.js';
import { deciderSpec } from '../deciderSpecification.js';

type Event = EventPayload<AccountEvent>;

const ACCOUNT = '7300000000000000001';
const COUNTERPARTY = '7300000000000000002';
const JOURNAL = '7300000000000000100';
const BANK = systemAccountId({ role: 'bank', currency: 'EUR' });

const spec = deciderSpec(accountDecider);

const openCommand = (overrides: Partial<Extract<AccountCommand, { type: 'OpenAccount' }>> = {}): AccountCommand => ({
  type: 'OpenAccount',
  accountId: ACCOUNT,
  ownerId: 'owner-1',
  currency: 'EUR',
  kind: 'customer',
  overdraftLimit: 0n,
  ...overrides,
});

const opened = (overrides: { overdraftLimit?: bigint; kind?: 'customer' | 'system' } = {}): Event => ({
  type: 'AccountOpened',
  data: {
    accountId: ACCOUNT,
    ownerId: 'owner-1',
    currency: 'EUR',
    kind: overrides.kind ?? 'customer',
    overdraftLimit: overrides.overdraftLimit ?? 0n,
  },
});

const openBank = (systemRole: 'bank' | 'fees'): AccountCommand => ({
  type: 'OpenAccount',
  accountId: BANK,
  ownerId: 'folio',
  currency: 'EUR',
  kind: 'system',
  systemRole,
  overdraftLimit: 0n,
});

const openedBank: Event = {
  type: 'AccountOpened',
  data: { accountId: BANK, ownerId: 'folio', currency: 'EUR', kind: 'system', systemRole: 'bank', overdraftLimit: 0n },
};

const frozen: Event = { type: 'AccountFrozen', data: { accountId: ACCOUNT } };
const closed: Event = { type: 'AccountClosed', data: { accountId: ACCOUNT } };

const journal = (leg: JournalLeg = 'first') => ({ id: JOURNAL, kind: 'transfer' as const, leg, counterpartyAccountId: COUNTERPARTY });

interface PostingOptions {
  leg?: JournalLeg;
  currency?: CurrencyCode;
  accountId?: string;
}

type PostingCommand = Extract<AccountCommand, { type: 'PostDebit' | 'PostCredit' }>;

const debit = (amount: bigint, options: PostingOptions = {}): PostingCommand => ({
  type: 'PostDebit',
  accountId: options.accountId ?? ACCOUNT,
  journal: journal(options.leg),
  amount,
  currency: options.currency ?? 'EUR',
});

const credit = (amount: bigint, options: PostingOptions = {}): PostingCommand => ({
  ...debit(amount, options),
  type: 'PostCredit',
});

const posting = (command: PostingCommand): Event => {
  const { type, ...data } = command;
  return { type: type === 'PostDebit' ? 'AccountDebited' : 'AccountCredited', data };
};

const credited = (amount: bigint): Event => posting(credit(amount));
const debited = (amount: bigint): Event => posting(debit(amount));

/** The problem extensions of an AccountStateError. */
const stateProblem = (currentState: string, allowedTransitions: string[], accountId = ACCOUNT) => ({
  accountId,
  currentState,
  allowedTransitions,
});

const openState = (state: AccountState) => {
  if (!state.exists) throw new Error('expected an open account');
  return state;
};

describe('accountDecider', () => {
  describe('OpenAccount', () => {
    it('opens a new account with the given attributes', () => {
      const state = openState(spec.given([]).when(openCommand({ overdraftLimit: 500n })).then([opened({ overdraftLimit: 500n })]));
      expect(state.status).to.equal('active');
      expect(availableBalance(state)).to.equal(500n);
    });

    it('opens a system account with its role', () => {
      spec.given([]).when(openBank('bank')).then([openedBank]);
    });

    it('does nothing when the same account is opened again with the same attributes', () => {
      spec.given([opened(), credited(10n)]).when(openCommand()).thenNothing();
    });

    const differences: [string, Partial<Extract<AccountCommand, { type: 'OpenAccount' }>>][] = [
      ['owner', { ownerId: 'owner-2' }],
      ['currency', { currency: 'USD' }],
      ['kind', { kind: 'merchant' }],
      ['overdraft limit', { overdraftLimit: 1n }],
      ['provider', { provider: 'stripe' }],
    ];
    for (const [what, overrides] of differences) {
      it(`refuses to open an existing account with another ${what}`, () => {
        spec.given([opened()]).when(openCommand(overrides)).thenThrows(AccountAlreadyExistsError, {
          type: 'account-already-exists',
          status: 409,
          extensions: { accountId: ACCOUNT },
        });
      });
    }

    it('refuses to reopen a system account under another role', () => {
      spec
        .given([openedBank])
        .when(openBank('fees'))
        .thenThrows(AccountAlreadyExistsError, { type: 'account-already-exists', status: 409, extensions: { accountId: BANK } });
    });
  });

  describe('FreezeAccount', () => {
    it('freezes an active account, keeping the reason', () => {
      spec
        .given([opened()])
        .when({ type: 'FreezeAccount', accountId: ACCOUNT, reason: 'fraud check' })
        .then([{ type: 'AccountFrozen', data: { accountId: ACCOUNT, reason: 'fraud check' } }]);
    });

    it('freezes without a reason when none is given', () => {
      spec.given([opened()]).when({ type: 'FreezeAccount', accountId: ACCOUNT }).then([frozen]);
    });

    it('refuses to freeze a frozen account, naming its state and what it allows', () => {
      spec.given([opened(), frozen]).when({ type: 'FreezeAccount', accountId: ACCOUNT }).thenThrows(AccountStateError, {
        type: 'account-frozen',
        status: 409,
        extensions: stateProblem('frozen', ['unfreeze', 'close']),
        message: /is frozen/,
      });
    });

    it('refuses to freeze a closed account', () => {
      spec.given([opened(), closed]).when({ type: 'FreezeAccount', accountId: ACCOUNT }).thenThrows(AccountStateError, {
        type: 'account-closed',
        status: 409,
        extensions: stateProblem('closed', []),
      });
    });

    it('refuses to freeze a system account, which allows no transition', () => {
      spec.given([openedBank]).when({ type: 'FreezeAccount', accountId: BANK }).thenThrows(AccountStateError, {
        type: 'illegal-account-transition',
        status: 409,
        extensions: stateProblem('active', [], BANK),
      });
    });

    it('refuses to freeze an account that does not exist', () => {
      spec.given([]).when({ type: 'FreezeAccount', accountId: ACCOUNT }).thenThrows(AccountNotFoundError, {
        type: 'account-not-found',
        status: 404,
        extensions: { accountId: ACCOUNT },
      });
    });
  });

  describe('UnfreezeAccount', () => {
    it('unfreezes a frozen account', () => {
      const state = openState(
        spec
          .given([opened(), frozen])
          .when({ type: 'UnfreezeAccount', accountId: ACCOUNT })
          .then([{ type: 'AccountUnfrozen', data: { accountId: ACCOUNT } }]),
      );
      expect(state.status).to.equal('active');
    });

    it('refuses to unfreeze an active account', () => {
      spec.given([opened()]).when({ type: 'UnfreezeAccount', accountId: ACCOUNT }).thenThrows(AccountStateError, {
        type: 'illegal-account-transition',
        status: 409,
        extensions: stateProblem('active', ['freeze', 'close']),
        message: /only a frozen account/,
      });
    });

    it('refuses to unfreeze a closed account', () => {
      spec.given([opened(), frozen, closed]).when({ type: 'UnfreezeAccount', accountId: ACCOUNT }).thenThrows(AccountStateError, {
        type: 'illegal-account-transition',
        status: 409,
        extensions: stateProblem('closed', []),
      });
    });

    it('refuses to unfreeze an account that does not exist', () => {
      spec.given([]).when({ type: 'UnfreezeAccount', accountId: ACCOUNT }).thenThrows(AccountNotFoundError, {
        type: 'account-not-found',
        status: 404,
        extensions: { accountId: ACCOUNT },
      });
    });
  });

  describe('CloseAccount', () => {
    const close: AccountCommand = { type: 'CloseAccount', accountId: ACCOUNT };

    it('closes an active account at zero balance', () => {
      spec.given([opened(), credited(70n), debited(70n)]).when(close).then([closed]);
    });

    it('closes a frozen account at zero balance', () => {
      spec.given([opened(), frozen]).when(close).then([closed]);
    });

    it('refuses to close an account holding money', () => {
      spec.given([opened(), credited(1n)]).when(close).thenThrows(AccountStateError, {
        type: 'account-not-empty',
        status: 409,
        extensions: stateProblem('active', ['freeze', 'close']),
      });
    });

    it('refuses to close an overdrawn account', () => {
      spec.given([opened({ overdraftLimit: 100n }), debited(1n), frozen]).when(close).thenThrows(AccountStateError, {
        type: 'account-not-empty',
        status: 409,
        extensions: stateProblem('frozen', ['unfreeze', 'close']),
      });
    });

    it('refuses to close an account at zero with something held or pending', () => {
      // No event of this decider holds money yet, so the held amounts are set on the state directly.
      const base = openState([opened()].reduce(accountDecider.evolve, accountDecider.initialState()));
      for (const state of [{ ...base, heldDebits: 5n }, { ...base, pendingCredits: 5n }]) {
        expect(() => accountDecider.decide(close, state))
          .to.throw(AccountStateError)
          .with.property('type', 'account-not-empty');
      }
    });

    it('refuses to close a closed account', () => {
      spec.given([opened(), closed]).when(close).thenThrows(AccountStateError, {
        type: 'account-closed',
        status: 409,
        extensions: stateProblem('closed', []),
      });
    });

    it('refuses to close a system account', () => {
      spec.given([openedBank]).when({ type: 'CloseAccount', accountId: BANK }).thenThrows(AccountStateError, {
        type: 'illegal-account-transition',
        status: 409,
        extensions: stateProblem('active', [], BANK),
      });
    });

    it('refuses to close an account that does not exist', () => {
      spec.given([]).when(close).thenThrows(AccountNotFoundError, { type: 'account-not-found', status: 404 });
    });
  });

  describe('PostDebit', () => {
    it('debits up to exactly the available balance, overdraft included', () => {
      const state = openState(spec.given([opened({ overdraftLimit: 50n }), credited(100n)]).when(debit(150n)).then([debited(150n)]));
      expect(postedBalance(state)).to.equal(-50n);
      expect(availableBalance(state)).to.equal(0n);
    });

    it('refuses one unit more than available, saying what is available as a string', () => {
      const error = spec
        .given([opened({ overdraftLimit: 50n }), credited(100n), debited(30n)])
        .when(debit(121n))
        .thenThrows(InsufficientFundsError, {
          type: 'insufficient-funds',
          status: 422,
          extensions: { accountId: ACCOUNT, available: '120', requested: '121', currency: 'EUR' },
        });
      expect(error.available).to.equal(120n);
    });

    it('refuses any debit on an empty account without overdraft', () => {
      spec.given([opened()]).when(debit(1n)).thenThrows(InsufficientFundsError, {
        type: 'insufficient-funds',
        status: 422,
        extensions: { accountId: ACCOUNT, available: '0', requested: '1', currency: 'EUR' },
      });
    });

    it('counts held debits against what is available', () => {
      const base = openState([opened(), credited(100n)].reduce(accountDecider.evolve, accountDecider.initialState()));
      const held = { ...base, heldDebits: 40n };
      expect(accountDecider.decide(debit(60n), held)).to.have.length(1);
      expect(() => accountDecider.decide(debit(61n), held))
        .to.throw(InsufficientFundsError)
        .with.property('available', 60n);
    });

    it('keeps the movement on a first leg and the reason on a reversal', () => {
      const movement: Movement = {
        fromAccountId: ACCOUNT,
        toAccountId: COUNTERPARTY,
        amount: 10n,
        currency: 'EUR',
        requestedAt: '2025-01-01T00:00:00.000Z',
      };
      const command: PostingCommand = { ...debit(10n), movement };
      spec.given([opened(), credited(10n)]).when(command).then([posting(command)]);
      const reversal: PostingCommand = { ...debit(10n, { leg: 'reversal' }), reason: 'account-frozen: no' };
      spec.given([opened()]).when(reversal).then([posting(reversal)]);
    });

    it('debits a system account without any balance check', () => {
      const state = openState(
        spec
          .given([openedBank])
          .when(debit(1_000_000n, { accountId: BANK }))
          .then([posting(debit(1_000_000n, { accountId: BANK }))]),
      );
      expect(postedBalance(state)).to.equal(-1_000_000n);
    });

    it('accepts a reversal debit that finds no funds, even on a frozen account', () => {
      const reversal = debit(25n, { leg: 'reversal' });
      const state = openState(spec.given([opened(), frozen]).when(reversal).then([posting(reversal)]));
      expect(postedBalance(state)).to.equal(-25n);
    });

    it('refuses to debit a frozen account', () => {
      spec.given([opened(), credited(100n), frozen]).when(debit(1n)).thenThrows(AccountStateError, {
        type: 'account-frozen',
        status: 409,
        extensions: stateProblem('frozen', ['unfreeze', 'close']),
        message: /cannot debit/,
      });
    });

    it('refuses to debit a closed account', () => {
      spec.given([opened(), closed]).when(debit(1n)).thenThrows(AccountStateError, {
        type: 'account-closed',
        status: 409,
        extensions: stateProblem('closed', []),
      });
    });

    it('refuses a debit in another currency', () => {
      spec.given([opened(), credited(100n)]).when(debit(1n, { currency: 'USD' })).thenThrows(AccountCurrencyMismatchError, {
        type: 'currency-mismatch',
        status: 422,
        extensions: { accountId: ACCOUNT, accountCurrency: 'EUR', requestedCurrency: 'USD' },
      });
    });

    it('refuses to debit an account that does not exist', () => {
      spec.given([]).when(debit(1n)).thenThrows(AccountNotFoundError, {
        type: 'account-not-found',
        status: 404,
        extensions: { accountId: ACCOUNT },
      });
    });
  });

  describe('PostCredit', () => {
    it('credits an active account', () => {
      const state = openState(spec.given([opened()]).when(credit(42n)).then([credited(42n)]));
      expect(postedBalance(state)).to.equal(42n);
    });

    it('credits a system account', () => {
      spec.given([openedBank]).when(credit(5n, { accountId: BANK })).then([posting(credit(5n, { accountId: BANK }))]);
    });

    it('refuses to credit a frozen account', () => {
      spec.given([opened(), frozen]).when(credit(1n)).thenThrows(AccountStateError, {
        type: 'account-frozen',
        status: 409,
        extensions: stateProblem('frozen', ['unfreeze', 'close']),
        message: /cannot credit/,
      });
    });

    it('refuses to credit a closed account', () => {
      spec.given([opened(), closed]).when(credit(1n)).thenThrows(AccountStateError, {
        type: 'account-closed',
        status: 409,
        extensions: stateProblem('closed', []),
      });
    });

    it('accepts a reversal credit on a frozen or closed account', () => {
      spec.given([opened(), frozen]).when(credit(9n, { leg: 'reversal' })).then([posting(credit(9n, { leg: 'reversal' }))]);
      spec.given([opened(), closed]).when(credit(9n, { leg: 'reversal' })).then([posting(credit(9n, { leg: 'reversal' }))]);
    });

    it('refuses a credit in another currency, reversal or not', () => {
      for (const leg of ['first', 'reversal'] as const) {
        spec.given([opened()]).when(credit(1n, { leg, currency: 'JPY' })).thenThrows(AccountCurrencyMismatchError, {
          type: 'currency-mismatch',
          status: 422,
          extensions: { accountId: ACCOUNT, accountCurrency: 'EUR', requestedCurrency: 'JPY' },
        });
      }
    });

    it('refuses to credit an account that does not exist', () => {
      spec.given([]).when(credit(1n)).thenThrows(AccountNotFoundError, {
        type: 'account-not-found',
        status: 404,
        extensions: { accountId: ACCOUNT },
      });
    });
  });

  describe('postings under any sequence', () => {
    const postingCommand = fc.record({
      side: fc.constantFrom('debit' as const, 'credit' as const),
      amount: fc.bigInt({ min: 1n, max: 1_000n }),
    });

    it('never lets the available balance go negative and keeps the posted balance exact', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 500n }), fc.array(postingCommand, { maxLength: 60 }), (overdraftLimit, commands) => {
          let state = [opened({ overdraftLimit })].reduce(accountDecider.evolve, accountDecider.initialState());
          let credits = 0n;
          let debits = 0n;
          for (const { side, amount } of commands) {
            const command = side === 'debit' ? debit(amount) : credit(amount);
            let events: readonly Event[];
            try {
              events = accountDecider.decide(command, state);
            } catch (error) {
              // Only a debit may be refused here, and only for want of funds.
              expect(side).to.equal('debit');
              expect(error).to.be.instanceOf(InsufficientFundsError);
              expect(amount > availableBalance(openState(state))).to.equal(true);
              continue;
            }
            state = events.reduce(accountDecider.evolve, state);
            if (side === 'debit') debits += amount;
            else credits += amount;
            const account = openState(state);
            expect(availableBalance(account) >= 0n, `available ${availableBalance(account)}`).to.equal(true);
            expect(postedBalance(account)).to.equal(credits - debits);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});
