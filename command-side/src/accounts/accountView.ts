import { formatMinorUnits, type GlobalPosition } from '@folio/shared';
import { availableBalance, pendingBalance, postedBalance, type OpenAccountState } from './accountState.js';

/** The account as the write API answers it; amounts are minor-unit strings. */
export const accountView = (account: OpenAccountState, revision: bigint | undefined, position: GlobalPosition | undefined) => ({
  id: account.accountId,
  ownerId: account.ownerId,
  currency: account.currency,
  kind: account.kind,
  ...(account.systemRole === undefined ? {} : { systemRole: account.systemRole }),
  ...(account.provider === undefined ? {} : { provider: account.provider }),
  status: account.status,
  overdraftLimit: formatMinorUnits(account.overdraftLimit),
  balance: {
    posted: formatMinorUnits(postedBalance(account)),
    pending: formatMinorUnits(pendingBalance(account)),
    available: formatMinorUnits(availableBalance(account)),
  },
  revision: revision === undefined ? null : revision.toString(),
  position: position === undefined ? null : position.toString(),
});

/** ETag of an account: its stream revision, so a client can tell whether it changed. */
export const accountETag = (revision: bigint | undefined): string => `W/"${revision ?? -1n}"`;
