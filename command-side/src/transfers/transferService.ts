import { accountStream, type Movement } from '@folio/shared';
import { AccountCurrencyMismatchError, AccountNotFoundError } from '../accounts/accountErrors.js';
import type { AccountCommandHandler } from '../accounts/accountCommandHandler.js';
import { transferPlan } from '../movements/movement.js';
import type { MovementProcess, RunContext } from '../movements/movementProcess.js';
import type { TransferRequest } from './transferRequest.js';
import { transferView } from './transferView.js';

/**
 * Runs one transfer. What never changes about the destination (that it exists, its currency) is
 * checked before any money moves, so such a request is refused with nothing written; what can
 * change (frozen, closed) is the destination's to refuse during the process, which then
 * reverses the debit.
 */
export const createTransferService = (deps: {
  accounts: AccountCommandHandler;
  movements: MovementProcess;
  clock: () => Date;
}) => ({
  async transfer(transferId: string, request: TransferRequest, run: RunContext, attempt: { retry: boolean }) {
    const destination = await deps.accounts.load(accountStream(request.toAccountId));
    if (!destination.state.exists) throw new AccountNotFoundError(request.toAccountId);
    if (destination.state.currency !== request.currency) {
      throw new AccountCurrencyMismatchError(request.toAccountId, destination.state.currency, request.currency);
    }
    const movement: Movement = { ...request, requestedAt: deps.clock().toISOString() };
    const outcome = await deps.movements.run(transferPlan(transferId, movement), run, attempt);
    return transferView(transferId, movement, outcome);
  },
});

export type TransferService = ReturnType<typeof createTransferService>;
