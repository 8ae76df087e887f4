import { accountStream, WrongExpectedRevisionError } from '@folio/shared';
import type { CommandContext } from '../commandHandling/decider.js';
import type { CommandResult } from '../commandHandling/commandHandler.js';
import type { MovementRecovery } from '../movements/movementRecovery.js';
import type { AccountCommandHandler } from './accountCommandHandler.js';
import { AccountMoneyInTransitError, MovementsNotKnownYetError } from './accountErrors.js';
import type { AccountState } from './accountState.js';

/** How long a close waits for the open movements to be read up to the account's last event. */
const IN_TRANSIT_WAIT_MS = 2_000;
/** A close races only the account's own postings: a few rounds settle it. */
const CLOSE_ATTEMPTS = 3;

/**
 * Closes an account. Its stream cannot tell whether money debited from it is still on its way to
 * an account that may refuse it: the refusal reverses the debit onto this account, and a closed
 * account would then hold money nobody can move. So the open movements (followed from the log by
 * movement recovery) are read up to the account's last event, a close is refused while one is
 * from or to the account, and the close is decided only if the stream has not moved since.
 */
export const closeAccount = async (
  deps: { accounts: AccountCommandHandler; recovery: Pick<MovementRecovery, 'open' | 'waitFor'> },
  accountId: string,
  context: CommandContext,
): Promise<CommandResult<AccountState>> => {
  const stream = accountStream(accountId);
  for (let attempt = 1; ; attempt++) {
    const { revision, position } = await deps.accounts.load(stream, { fresh: true });
    if (position !== undefined && !(await deps.recovery.waitFor(position, IN_TRANSIT_WAIT_MS))) {
      throw new MovementsNotKnownYetError(accountId);
    }
    const inTransit = deps.recovery
      .open()
      .filter(({ movement }) => movement.fromAccountId === accountId || movement.toAccountId === accountId)
      .map(({ kind, id }) => `${kind}-${id}`);
    if (inTransit.length > 0) throw new AccountMoneyInTransitError(accountId, inTransit);
    try {
      return await deps.accounts.handle(stream, { type: 'CloseAccount', accountId }, context, revision === undefined ? {} : { expectedRevision: revision });
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError && attempt < CLOSE_ATTEMPTS) continue;
      throw error;
    }
  }
};
