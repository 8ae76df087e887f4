import {
  formatMinorUnits,
  MAX_MINOR_UNITS,
  ValidationError,
  type AccountKind,
  type CurrencyCode,
  type JournalRef,
  type Movement,
  type SystemAccountRole,
} from '@folio/shared';
import type { Decider, EventPayload } from '../commandHandling/decider.js';
import {
  AccountAlreadyExistsError,
  AccountCurrencyMismatchError,
  AccountNotFoundError,
  AccountStateError,
  BalanceOutOfRangeError,
  HoldNotOpenError,
  InsufficientFundsError,
} from './accountErrors.js';
import {
  availableBalance,
  postedBalance,
  type AccountEvent,
  type AccountState,
  type OpenAccountState,
} from './accountState.js';

export interface Posting {
  accountId: string;
  journal: JournalRef;
  amount: bigint;
  currency: CurrencyCode;
  movement?: Movement;
  reason?: string;
  /** Posts this open hold (same amount) instead of checking the available balance again. */
  holdId?: string;
}

export type AccountCommand =
  | {
      type: 'OpenAccount';
      accountId: string;
      ownerId: string;
      currency: CurrencyCode;
      kind: AccountKind;
      systemRole?: SystemAccountRole;
      provider?: string;
      overdraftLimit: bigint;
    }
  | { type: 'FreezeAccount'; accountId: string; reason?: string }
  | { type: 'UnfreezeAccount'; accountId: string }
  | { type: 'CloseAccount'; accountId: string }
  | ({ type: 'PostDebit' } & Posting)
  | ({ type: 'PostCredit' } & Posting)
  | { type: 'PlaceHold'; accountId: string; holdId: string; amount: bigint; currency: CurrencyCode; purpose: string }
  | { type: 'ReleaseHold'; accountId: string; holdId: string; reason?: string };

type Event = EventPayload<AccountEvent>;

/**
 * The largest overdraft limit an account may have. The available balance counts the limit, and it
 * must stay within the money bound like every figure the books show, so a limit takes its size off
 * what the account can hold: at half the bound an account can always hold more than it may owe,
 * where a limit near the bound would leave no room for a single deposit.
 */
export const MAX_OVERDRAFT_LIMIT = MAX_MINOR_UNITS / 2n;

/** Why a larger limit is refused, as a validation issue says it. */
export const overdraftLimitProblem = `must be at most ${formatMinorUnits(MAX_OVERDRAFT_LIMIT)} minor units (half the money bound), so the account keeps room to receive money`;

const requireAccount = (state: AccountState, accountId: string): OpenAccountState => {
  if (!state.exists) throw new AccountNotFoundError(accountId);
  return state;
};

const transitionsFrom = (account: OpenAccountState): string[] => {
  if (account.kind === 'system') return [];
  return account.status === 'active' ? ['freeze', 'close'] : account.status === 'frozen' ? ['unfreeze', 'close'] : [];
};

const refuseState = (account: OpenAccountState, what: string): never => {
  const type = account.status === 'frozen' ? 'account-frozen' : account.status === 'closed' ? 'account-closed' : 'illegal-account-transition';
  throw new AccountStateError(
    type,
    account.accountId,
    account.status,
    `account ${account.accountId} is ${account.status}: cannot ${what}`,
    transitionsFrom(account),
  );
};

/**
 * Checks shared by debits and credits. A reversal puts back what its first leg moved: refusing it
 * would strand that money in transit, so neither the account's status nor its funds stop it (the
 * currency is the first leg's, so it always matches).
 */
const checkPosting = (account: OpenAccountState, posting: Posting, what: string): void => {
  if (account.currency !== posting.currency) {
    throw new AccountCurrencyMismatchError(account.accountId, account.currency, posting.currency);
  }
  if (posting.journal.leg !== 'reversal' && account.status !== 'active') refuseState(account, what);
};

/**
 * Balances stay within the money bound, so every figure the books show is exact. Holds lower the
 * available balance only until they are released, which no bound may refuse, so the available
 * balance is bounded as it will be without them: the posted balance plus the overdraft limit. A
 * reversal is bounded too, yet it restores figures the account had, which were within the bound:
 * it can be refused only if postings between its legs filled the room the first leg freed. Its
 * movement then stays in transit, reported as stuck, until recovery can finish it one way or the
 * other.
 */
const checkBounds = (account: OpenAccountState, effect: bigint): void => {
  const figures = [
    postedBalance(account) + effect,
    availableBalance(account) + effect,
    postedBalance(account) + account.overdraftLimit + effect,
  ];
  if (figures.some((figure) => figure > MAX_MINOR_UNITS || figure < -MAX_MINOR_UNITS)) {
    throw new BalanceOutOfRangeError(account.accountId);
  }
};

const postingData = (posting: Posting) => ({
  accountId: posting.accountId,
  journal: posting.journal,
  amount: posting.amount,
  currency: posting.currency,
  ...(posting.movement === undefined ? {} : { movement: posting.movement }),
  ...(posting.reason === undefined ? {} : { reason: posting.reason }),
});

const decide = (command: AccountCommand, state: AccountState): Event[] => {
  switch (command.type) {
    case 'OpenAccount': {
      const { type: _type, ...attributes } = command;
      if (state.exists) {
        const same =
          state.ownerId === command.ownerId &&
          state.currency === command.currency &&
          state.kind === command.kind &&
          state.systemRole === command.systemRole &&
          state.provider === command.provider &&
          state.overdraftLimit === command.overdraftLimit;
        // Opening the same account twice is a no-op, so system accounts can be opened on first use.
        if (same) return [];
        throw new AccountAlreadyExistsError(command.accountId);
      }
      if (command.overdraftLimit > MAX_OVERDRAFT_LIMIT) {
        throw new ValidationError(`the overdraft limit ${overdraftLimitProblem}`, [
          { path: 'overdraftLimit', message: overdraftLimitProblem },
        ]);
      }
      return [{ type: 'AccountOpened', data: attributes }];
    }
    case 'FreezeAccount': {
      const account = requireAccount(state, command.accountId);
      if (account.status !== 'active' || account.kind === 'system') refuseState(account, 'freeze');
      return [
        {
          type: 'AccountFrozen',
          data: { accountId: command.accountId, ...(command.reason === undefined ? {} : { reason: command.reason }) },
        },
      ];
    }
    case 'UnfreezeAccount': {
      const account = requireAccount(state, command.accountId);
      if (account.status !== 'frozen') {
        throw new AccountStateError(
          'illegal-account-transition',
          account.accountId,
          account.status,
          `account ${account.accountId} is ${account.status}: only a frozen account can be unfrozen`,
          transitionsFrom(account),
        );
      }
      return [{ type: 'AccountUnfrozen', data: { accountId: command.accountId } }];
    }
    case 'CloseAccount': {
      const account = requireAccount(state, command.accountId);
      if (account.status === 'closed' || account.kind === 'system') refuseState(account, 'close');
      if (postedBalance(account) !== 0n || account.heldDebits !== 0n || account.pendingCredits !== 0n) {
        throw new AccountStateError(
          'account-not-empty',
          account.accountId,
          account.status,
          `account ${account.accountId} can be closed only at zero balance with nothing held or pending`,
          transitionsFrom(account),
        );
      }
      return [{ type: 'AccountClosed', data: { accountId: command.accountId } }];
    }
    case 'PostDebit': {
      const account = requireAccount(state, command.accountId);
      if (command.holdId !== undefined) return postHeldDebit(account, command);
      checkPosting(account, command, 'debit');
      const available = availableBalance(account);
      if (account.kind !== 'system' && command.journal.leg !== 'reversal' && available < command.amount) {
        throw new InsufficientFundsError(account.accountId, available, command.amount, account.currency);
      }
      checkBounds(account, -command.amount);
      return [{ type: 'AccountDebited', data: postingData(command) }];
    }
    case 'PostCredit': {
      const account = requireAccount(state, command.accountId);
      checkPosting(account, command, 'credit');
      checkBounds(account, command.amount);
      return [{ type: 'AccountCredited', data: postingData(command) }];
    }
    case 'PlaceHold': {
      const account = requireAccount(state, command.accountId);
      const open = account.holds[command.holdId];
      if (open !== undefined) {
        if (open === command.amount) return [];
        throw new HoldNotOpenError(account.accountId, command.holdId);
      }
      if (account.kind === 'system') throw new TypeError(`system account ${account.accountId} takes no holds`);
      if (account.currency !== command.currency) {
        throw new AccountCurrencyMismatchError(account.accountId, account.currency, command.currency);
      }
      if (account.status !== 'active') refuseState(account, 'hold funds');
      const available = availableBalance(account);
      if (available < command.amount) {
        throw new InsufficientFundsError(account.accountId, available, command.amount, account.currency);
      }
      const { type: _type, ...data } = command;
      return [{ type: 'AccountFundsHeld', data }];
    }
    case 'ReleaseHold': {
      const account = requireAccount(state, command.accountId);
      const amount = account.holds[command.holdId];
      // Releasing twice (a retry, a late timeout) changes nothing.
      if (amount === undefined) return [];
      return [
        {
          type: 'AccountHoldReleased',
          data: {
            accountId: account.accountId,
            holdId: command.holdId,
            amount,
            currency: account.currency,
            outcome: 'released',
            ...(command.reason === undefined ? {} : { reason: command.reason }),
          },
        },
      ];
    }
  }
};

/**
 * The hold already took the amount out of the available balance while the account could afford
 * it, so posting it needs no balance check, whatever the account's status is now.
 */
const postHeldDebit = (account: OpenAccountState, posting: Posting): Event[] => {
  const held = account.holds[posting.holdId!];
  if (held === undefined || held !== posting.amount) throw new HoldNotOpenError(account.accountId, posting.holdId!);
  if (account.currency !== posting.currency) {
    throw new AccountCurrencyMismatchError(account.accountId, account.currency, posting.currency);
  }
  return [
    {
      type: 'AccountHoldReleased',
      data: { accountId: account.accountId, holdId: posting.holdId!, amount: held, currency: account.currency, outcome: 'posted' },
    },
    { type: 'AccountDebited', data: postingData(posting) },
  ];
};

const evolve = (state: AccountState, event: Event): AccountState => {
  if (event.type === 'AccountOpened') {
    return {
      exists: true,
      ...event.data,
      status: 'active',
      debits: 0n,
      credits: 0n,
      heldDebits: 0n,
      holds: {},
      pendingCredits: 0n,
    };
  }
  if (!state.exists) return state;
  switch (event.type) {
    case 'AccountFrozen':
      return { ...state, status: 'frozen' };
    case 'AccountUnfrozen':
      return { ...state, status: 'active' };
    case 'AccountClosed':
      return { ...state, status: 'closed' };
    case 'AccountDebited':
      return { ...state, debits: state.debits + event.data.amount };
    case 'AccountCredited':
      return { ...state, credits: state.credits + event.data.amount };
    case 'AccountFundsHeld':
      return {
        ...state,
        heldDebits: state.heldDebits + event.data.amount,
        holds: { ...state.holds, [event.data.holdId]: event.data.amount },
      };
    case 'AccountHoldReleased': {
      const { [event.data.holdId]: _released, ...holds } = state.holds;
      return { ...state, heldDebits: state.heldDebits - event.data.amount, holds };
    }
  }
};

export const accountDecider: Decider<AccountState, AccountCommand, Event> = {
  initialState: () => ({ exists: false }),
  evolve,
  decide,
};
