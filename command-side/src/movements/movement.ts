import {
  depositStream,
  systemAccountId,
  transferStream,
  type SystemAccountKey,
  type JournalKind,
  type Movement,
} from '@folio/shared';

/** One side of a journal: which account, and whether money leaves (debit) or enters (credit). */
export interface MovementLeg {
  accountId: string;
  side: 'debit' | 'credit';
  /**
   * Set for a system account: it is opened on first use, and since no rule depends on its state
   * its postings are appended without a revision check.
   */
  system?: SystemAccountKey;
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

/** Rebuilds the plan of a journal from its first leg, as recovery finds it in the log. */
export const planOf = (kind: JournalKind, id: string, movement: Movement): MovementPlan =>
  kind === 'transfer' ? transferPlan(id, movement) : depositPlan(id, movement);
