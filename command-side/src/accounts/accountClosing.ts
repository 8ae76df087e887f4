import { accountStream, WrongExpectedRevisionError } from '@folio/shared';
import type { CommandContext } from '../commandHandling/decider.js';
import type { CommandResult } from '../commandHandling/commandHandler.js';
import type { MovementRecovery } from '../movements/movementRecovery.js';
import type { MerchantJournalsWaiting } from '../payments/merchantJournalsWaiting.js';
import type { AccountCommandHandler } from './accountCommandHandler.js';
import {
  AccountMoneyInTransitError,
  AccountPaymentJournalsWaitingError,
  AccountPaymentsOpenError,
  MovementsNotKnownYetError,
} from './accountErrors.js';
import type { AccountState } from './accountState.js';

/** How long a close waits for the open movements to be read up to the account's last event. */
const IN_TRANSIT_WAIT_MS = 2_000;
/** A close races only the account's own postings: a few rounds settle it. */
const CLOSE_ATTEMPTS = 3;

/**
 * Whether waiting for money in transit could ever let the account close. A system account, or one
 * closed already, never closes: its decider answers so at once, rather than a refusal that asks the
 * caller to try again once movements (always some, on a busy bank account) have ended.
 */
const mayEverClose = (state: AccountState): boolean => state.exists && state.kind !== 'system' && state.status !== 'closed';

/**
 * Closes an account. Its stream cannot tell whether money debited from it is still on its way to
 * an account that may refuse it: the refusal reverses the debit onto this account, and a closed
 * account would then hold money nobody can move. So the open movements (followed from the log by
 * movement recovery) are read up to the account's last event, a close is refused while one is
 * from or to the account, and the close is decided only if the stream has not moved since.
 * A movement to the account whose first leg (on the other account's stream) is read later is not
 * seen, and the close goes through: the closed account then refuses its credit, the first leg is
 * reversed, and the movement fails as `account-closed`, so no money waits on a closed account.
 *
 * Nor can it tell a payment's capture or refund routed to it and waiting while it refuses them
 * (frozen, spent): closed, it would never take them. So a close is refused too while one waits, as
 * the log followed up to its head says. A journal routed there after that look (another instance
 * choosing the route meanwhile) finds the account closed, and its payment books it to suspense.
 *
 * Nor can it tell a payment to it still open: created or submitted, the provider may capture it
 * any moment, and a refund under way debits it once the provider answers. So a close is refused
 * while one is, as the same fold of the log says. A payment created after that look is not handed
 * to the provider once the account closed.
 */
export const closeAccount = async (
  deps: {
    accounts: AccountCommandHandler;
    recovery: Pick<MovementRecovery, 'open' | 'waitFor'>;
    paymentJournals: Pick<MerchantJournalsWaiting, 'waitingOn'>;
  },
  accountId: string,
  context: CommandContext,
): Promise<CommandResult<AccountState>> => {
  const stream = accountStream(accountId);
  for (let attempt = 1; ; attempt++) {
    const { state, revision, position } = await deps.accounts.load(stream, { fresh: true });
    if (mayEverClose(state)) {
      if (position !== undefined && !(await deps.recovery.waitFor(position, IN_TRANSIT_WAIT_MS))) {
        throw new MovementsNotKnownYetError(accountId);
      }
      const inTransit = deps.recovery
        .open()
        .filter(({ movement }) => movement.fromAccountId === accountId || movement.toAccountId === accountId)
        .map(({ kind, id }) => `${kind}-${id}`);
      if (inTransit.length > 0) throw new AccountMoneyInTransitError(accountId, inTransit);
      const waiting = await deps.paymentJournals.waitingOn(accountId, IN_TRANSIT_WAIT_MS);
      if (waiting === undefined) throw new MovementsNotKnownYetError(accountId);
      if (waiting.journals.length > 0) throw new AccountPaymentJournalsWaitingError(accountId, waiting.journals);
      if (waiting.payments.length > 0) throw new AccountPaymentsOpenError(accountId, waiting.payments);
    }
    try {
      return await deps.accounts.handle(stream, { type: 'CloseAccount', accountId }, context, revision === undefined ? {} : { expectedRevision: revision });
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError && attempt < CLOSE_ATTEMPTS) continue;
      throw error;
    }
  }
};
