import type { AccountKind, CurrencyCode, LedgerEventOfType, SystemAccountRole } from '@folio/shared';

export type AccountStatus = 'active' | 'frozen' | 'closed';

export interface OpenAccountState {
  exists: true;
  accountId: string;
  ownerId: string;
  currency: CurrencyCode;
  kind: AccountKind;
  systemRole?: SystemAccountRole;
  provider?: string;
  status: AccountStatus;
  overdraftLimit: bigint;
  /** Posted debits and credits, each a running total. */
  debits: bigint;
  credits: bigint;
  /** Debits held (reserved) but not yet posted. */
  heldDebits: bigint;
  /** The open holds by id; they add up to `heldDebits`. */
  holds: Readonly<Record<string, bigint>>;
  /** Credits announced but not yet posted. */
  pendingCredits: bigint;
}

export type AccountState = { exists: false } | OpenAccountState;

export type AccountEvent =
  | LedgerEventOfType<'AccountOpened'>
  | LedgerEventOfType<'AccountFrozen'>
  | LedgerEventOfType<'AccountUnfrozen'>
  | LedgerEventOfType<'AccountClosed'>
  | LedgerEventOfType<'AccountDebited'>
  | LedgerEventOfType<'AccountCredited'>
  | LedgerEventOfType<'AccountFundsHeld'>
  | LedgerEventOfType<'AccountHoldReleased'>;

/** The balance as money on the account: posted credits minus posted debits. */
export const postedBalance = (account: OpenAccountState): bigint => account.credits - account.debits;

/** What the holder may still spend: posted balance minus held debits plus the overdraft limit. */
export const availableBalance = (account: OpenAccountState): bigint =>
  account.credits - account.debits - account.heldDebits + account.overdraftLimit;

/** Net of what is held or announced: pending credits minus held debits. */
export const pendingBalance = (account: OpenAccountState): bigint => account.pendingCredits - account.heldDebits;
