import {
  depositStream,
  isSystemAccountId,
  journalStream,
  paymentProviders,
  systemAccountId,
  systemAccountRoles,
  transferStream,
  type CurrencyCode,
  type SystemAccountKey,
  type JournalKind,
  type Movement,
  type ProviderJournalKind,
} from '@folio/shared';

/** One side of a journal: which account, and whether money leaves (debit) or enters (credit). */
export interface MovementLeg {
  accountId: string;
  side: 'debit' | 'credit';
  /**
   * Set for a system account: it is opened on first use, and since no rule depends on its state
   * its postings are appended without a revision check where the process is the store's sole
   * writer (see `HandleOptions.unconstrained`).
   */
  system?: SystemAccountKey;
  /** Set on a first leg that posts a hold placed earlier (a payout): the hold is its balance check. */
  holdId?: string;
}

/**
 * A journal of two legs, posted by a process: the first leg is the one that may be refused (it
 * carries the movement's details, so the log alone can resume it); the second completes it.
 */
export interface MovementPlan {
  kind: JournalKind;
  id: string;
  movement: Movement;
  first: MovementLeg;
  second: MovementLeg;
  /** Where the process records how the journal ended. */
  streamName: string;
}

/** A transfer debits the source first (the balance check lives there), then credits the destination. */
export const transferPlan = (transferId: string, movement: Movement): MovementPlan => ({
  kind: 'transfer',
  id: transferId,
  movement,
  first: { accountId: movement.fromAccountId, side: 'debit' },
  second: { accountId: movement.toAccountId, side: 'credit' },
  streamName: transferStream(transferId),
});

/**
 * A deposit credits the account first (it may refuse: frozen, closed, wrong currency), then debits
 * the bank system account, which never refuses.
 */
export const depositPlan = (depositId: string, movement: Movement): MovementPlan => {
  const bank: SystemAccountKey = { role: 'bank', currency: movement.currency };
  if (movement.fromAccountId !== systemAccountId(bank)) {
    throw new TypeError(`a deposit is paid by the ${movement.currency} bank account, not ${movement.fromAccountId}`);
  }
  return {
    kind: 'deposit',
    id: depositId,
    movement,
    first: { accountId: movement.toAccountId, side: 'credit' },
    second: { accountId: movement.fromAccountId, side: 'debit', system: bank },
    streamName: depositStream(depositId),
  };
};

/** The key of a system account from its id (the id is derived from it), or undefined for any other account. */
const systemKeyOf = (accountId: string, currency: CurrencyCode): SystemAccountKey | undefined => {
  if (!isSystemAccountId(accountId)) return undefined;
  for (const role of systemAccountRoles) {
    const providers = role === 'provider_clearing' ? paymentProviders : [undefined];
    for (const provider of providers) {
      const key: SystemAccountKey = { role, currency, ...(provider === undefined ? {} : { provider }) };
      if (systemAccountId(key) === accountId) return key;
    }
  }
  throw new TypeError(`${accountId} is not a ${currency} system account`);
};

const legOf = (accountId: string, side: 'debit' | 'credit', currency: CurrencyCode, holdId?: string): MovementLeg => {
  const system = systemKeyOf(accountId, currency);
  return { accountId, side, ...(system === undefined ? {} : { system }), ...(holdId === undefined ? {} : { holdId }) };
};

/**
 * Journals of payments and payouts; `from` is debited, `to` credited. The leg that may refuse
 * goes first:
 * - capture (clearing → merchant): the merchant is credited first (it may be frozen or closed);
 * - settlement (bank → clearing, the net) and fee (fees → clearing): system accounts only;
 * - refund (merchant → clearing or bank): the merchant is debited first (its balance is checked);
 * - payout (account → bank): the account's hold (id = the payout's) is posted first;
 * - correction (system → system, closing a reconciliation discrepancy): neither side refuses.
 */
export const providerJournalPlan = (kind: ProviderJournalKind, id: string, movement: Movement): MovementPlan => {
  const from = (holdId?: string) => legOf(movement.fromAccountId, 'debit', movement.currency, holdId);
  const to = () => legOf(movement.toAccountId, 'credit', movement.currency);
  const streamName = journalStream(kind, id);
  switch (kind) {
    case 'capture':
    case 'settlement':
    case 'fee':
      return { kind, id, movement, first: to(), second: from(), streamName };
    case 'refund':
      return { kind, id, movement, first: from(), second: to(), streamName };
    case 'payout':
      return { kind, id, movement, first: from(id), second: to(), streamName };
    case 'correction':
      return { kind, id, movement, first: from(), second: to(), streamName };
  }
};

/** Rebuilds the plan of a journal from its first leg, as recovery finds it in the log. */
export const planOf = (kind: JournalKind, id: string, movement: Movement): MovementPlan =>
  kind === 'transfer'
    ? transferPlan(id, movement)
    : kind === 'deposit'
      ? depositPlan(id, movement)
      : providerJournalPlan(kind, id, movement);
