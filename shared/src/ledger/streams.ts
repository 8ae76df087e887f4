/** Stream names of the books. The category prefix comes before the first `-`. */
export const accountStream = (accountId: string): string => `account-${accountId}`;
export const transferStream = (transferId: string): string => `transfer-${transferId}`;
export const depositStream = (depositId: string): string => `deposit-${depositId}`;

export const ACCOUNT_STREAM_PREFIX = 'account-';
