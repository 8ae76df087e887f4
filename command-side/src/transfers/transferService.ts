import { accountStream, transferStream, type Movement } from '@folio/shared';
import {
  AccountCurrencyMismatchError,
  AccountNotFoundError,
  SystemAccountNotAllowedError,
} from '../accounts/accountErrors.js';
import type { AccountCommandHandler } from '../accounts/accountCommandHandler.js';
import { transferPlan } from '../movements/movement.js';
import type { MovementAttempt, MovementProcess, RunContext } from '../movements/movementProcess.js';
import type { TransferRequest } from './transferRequest.js';
import { transferView } from './transferView.js';

/**
 * Runs one transfer between customer or merchant accounts. What never changes about the two
 * accounts (that they exist, their kind, their currency) is checked before any money moves, so
 * such a request is refused with nothing written; what can change (frozen, closed, the balance)
 * is for the accounts to refuse during the process, which reverses the debit if the destination
 * refuses.
 */
export const createTransferService = (deps: {
  accounts: AccountCommandHandler;
  movements: MovementProcess;
  clock: () => Date;
}) => ({
  /** `attempt`: what earlier runs of the request may have done, and the lease of its claim. */
  async transfer(transferId: string, request: TransferRequest, run: RunContext, attempt: MovementAttempt) {
    if (attempt.retry) {
      // An earlier run may have finished it: answer with what the log says it was.
      const ended = await deps.movements.read(transferStream(transferId));
      if (ended !== undefined) return transferView(transferId, ended.movement, ended.outcome);
    }
    const [source, destination] = await Promise.all([
      deps.accounts.load(accountStream(request.fromAccountId)),
      deps.accounts.load(accountStream(request.toAccountId)),
    ]);
    for (const [accountId, { state }] of [
      [request.fromAccountId, source],
      [request.toAccountId, destination],
    ] as const) {
      if (!state.exists) throw new AccountNotFoundError(accountId);
      if (state.kind === 'system') throw new SystemAccountNotAllowedError(accountId);
      if (state.currency !== request.currency) {
        throw new AccountCurrencyMismatchError(accountId, state.currency, request.currency);
      }
    }
    const movement: Movement = { ...request, requestedAt: deps.clock().toISOString() };
    const outcome = await deps.movements.run(transferPlan(transferId, movement), run, attempt);
    // After a retry the movement is the one an earlier run recorded, with its request time.
    return transferView(transferId, outcome.movement, outcome);
  },
});

export type TransferService = ReturnType<typeof createTransferService>;
