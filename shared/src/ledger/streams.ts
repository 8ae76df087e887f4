/** Stream names of the books. The category prefix comes before the first `-`. */
export const accountStream = (accountId: string): string => `account-${accountId}`;
export const transferStream = (transferId: string): string => `transfer-${transferId}`;
export const depositStream = (depositId: string): string => `deposit-${depositId}`;

/** Where a payment or payout journal records how it ended. */
export const journalStream = (kind: string, journalId: string): string => `journal-${kind}-${journalId}`;

export const ACCOUNT_STREAM_PREFIX = 'account-';
