import { accountStream, systemAccountId, type SystemAccountKey } from '@folio/shared';
import type { AccountCommandHandler } from '../accounts/accountCommandHandler.js';

export interface SystemAccounts {
  /** Opens the system account on first use; later calls return at once. */
  ensureOpen(key: SystemAccountKey, run: { correlationId: string; actor: string }): Promise<string>;
}

export const createSystemAccounts = (accounts: AccountCommandHandler, clock: () => Date): SystemAccounts => {
  const known = new Set<string>();
  return {
    async ensureOpen(key, run) {
      const accountId = systemAccountId(key);
      if (known.has(accountId)) return accountId;
      // Opening is a no-op when the account exists, so racing openers are harmless.
      await accounts.handle(
        accountStream(accountId),
        {
          type: 'OpenAccount',
          accountId,
          ownerId: 'folio',
          currency: key.currency,
          kind: 'system',
          systemRole: key.role,
          ...(key.provider === undefined ? {} : { provider: key.provider }),
          overdraftLimit: 0n,
        },
        { commandId: `open-${accountId}`, correlationId: run.correlationId, actor: run.actor, now: clock() },
      );
      known.add(accountId);
      return accountId;
    },
  };
};
