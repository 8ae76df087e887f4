import type { JsonObject } from '../eventStore/eventStore.js';
import type { AccountFigures } from '../ledger/ledgerFold.js';
import type { AccountAtPoint } from './accountAsOf.js';
import type { TrialBalance } from './trialBalance.js';

/** The audit's answers as JSON: amounts and positions as decimal strings, as everywhere on the wire. */
export const figuresToJson = (figures: AccountFigures): JsonObject => ({
  accountId: figures.accountId,
  currency: figures.currency,
  kind: figures.kind,
  overdraftLimit: figures.overdraftLimit.toString(),
  debits: figures.debits.toString(),
  credits: figures.credits.toString(),
  balance: figures.balance.toString(),
  postings: figures.postings,
});

export const trialBalanceToJson = (trialBalance: TrialBalance): JsonObject => ({
  position: trialBalance.position?.toString() ?? null,
  balanced: trialBalance.balanced,
  currencies: trialBalance.currencies.map((entry) => ({
    currency: entry.currency,
    accounts: entry.accounts,
    balances: entry.balances.toString(),
    inTransit: entry.inTransit.toString(),
    difference: entry.difference.toString(),
  })),
  inFlight: trialBalance.inFlight.map((movement) => ({
    kind: movement.kind,
    id: movement.id,
    currency: movement.currency,
    inTransit: movement.inTransit.toString(),
    startedAt: movement.startedAt.toString(),
  })),
  eventsFolded: trialBalance.eventsFolded,
  violations: trialBalance.violations,
});

export const accountAtPointToJson = (result: AccountAtPoint): JsonObject => ({
  ...figuresToJson(result.figures),
  revision: result.revision.toString(),
  position: result.position.toString(),
  snapshotRevision: result.snapshotRevision?.toString() ?? null,
  entries: result.entries.map((entry) => ({
    revision: entry.revision.toString(),
    position: entry.position.toString(),
    recordedAt: entry.recordedAt,
    occurredAt: entry.occurredAt,
    side: entry.side,
    amount: entry.amount.toString(),
    currency: entry.currency,
    journal: { ...entry.journal },
    balanceAfter: entry.balanceAfter.toString(),
  })),
});
