/** What the movement tests share: plans between test accounts, a process over a store, and a crash after the first leg. */
import { randomUUID } from 'node:crypto';
import { accountStream, systemAccountId, type EventStore, type Movement } from '@folio/shared';
import { createAccountCommandHandler, type AccountCommandHandler } from '../../src/accounts/accountCommandHandler.js';
import type { AccountCommand } from '../../src/accounts/accountDecider.js';
import { depositPlan, transferPlan, type MovementPlan } from '../../src/movements/movement.js';
import { createMovementProcess, legCommandId } from '../../src/movements/movementProcess.js';
import { createSystemAccounts } from '../../src/movements/systemAccountOpener.js';
import { contextFor, NOW } from '../commandHandling/testSupport.js';

export const BANK = systemAccountId({ role: 'bank', currency: 'EUR' });
export const RUN = { correlationId: 'request-1', actor: 'test' };
export const clock = () => new Date(NOW);

const movement = (fromAccountId: string, toAccountId: string, amount: bigint): Movement => ({
  fromAccountId,
  toAccountId,
  amount,
  currency: 'EUR',
  requestedAt: NOW.toISOString(),
});

/** Transfer and deposit plans in EUR with ids counted up from `firstId` (a range of the test file's own). */
export const movementPlans = (firstId: bigint) => {
  let nextId = firstId;
  const newId = () => (nextId++).toString();
  return {
    newId,
    transfer: (from: string, to: string, amount: bigint) => transferPlan(newId(), movement(from, to, amount)),
    deposit: (to: string, amount: bigint) => depositPlan(newId(), movement(BANK, to, amount)),
  };
};

/** One process of the command side: its account handler, system accounts and movement process. */
export const startProcess = (eventStore: EventStore) => {
  const accounts = createAccountCommandHandler(eventStore);
  const systemAccounts = createSystemAccounts(accounts, clock);
  return { accounts, movements: createMovementProcess({ eventStore, accounts, systemAccounts, clock, newEventId: randomUUID }) };
};

export const openCustomer = (accounts: AccountCommandHandler, accountId: string) =>
  accounts.handle(
    accountStream(accountId),
    { type: 'OpenAccount', accountId, ownerId: `owner-${accountId}`, currency: 'EUR', kind: 'customer', overdraftLimit: 0n },
    contextFor(`open-${accountId}`),
  );

/** Posts a plan's first leg the way the process does, then "crashes" (does nothing more). */
export const postFirstLegOnly = (accounts: AccountCommandHandler, plan: MovementPlan) => {
  const command: AccountCommand = {
    type: plan.first.side === 'debit' ? 'PostDebit' : 'PostCredit',
    accountId: plan.first.accountId,
    journal: { id: plan.id, kind: plan.kind, leg: 'first', counterpartyAccountId: plan.second.accountId },
    amount: plan.movement.amount,
    currency: plan.movement.currency,
    movement: plan.movement,
  };
  return accounts.handle(accountStream(plan.first.accountId), command, {
    ...contextFor(legCommandId(plan, 'first')),
    causationId: `${plan.kind}-${plan.id}`,
  });
};
