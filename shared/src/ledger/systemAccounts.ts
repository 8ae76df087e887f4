import type { CurrencyCode } from '../money/index.js';
import type { SystemAccountRole } from './accountEvents.js';

/**
 * System accounts (bank, provider clearing, fees, revenue, suspense) exist once per currency
 * (clearing once per provider and currency) and are opened on first use. Their ids are derived,
 * not stored, so every process finds the same account without a lookup and a crash between
 * "choose id" and "open" cannot create two.
 *
 * A derived id is a valid Snowflake whose timestamp field encodes (role, provider, currency):
 * those timestamps fall in the first days after the project epoch, long before any generator
 * ran, and node id 1023 marks them, so they never collide with minted ids.
 */

/** Providers known to the books; the order is part of the ids: only ever append. */
export const paymentProviders = ['sandbox', 'stripe', 'paypal', 'adyen'] as const;
export type PaymentProvider = (typeof paymentProviders)[number];

/** The order is part of the ids: only ever append. */
const ROLE_CODES: Record<SystemAccountRole, number> = {
  bank: 1,
  provider_clearing: 2,
  fees: 3,
  revenue: 4,
  suspense: 5,
};

const SYSTEM_NODE_ID = 1023n;

const currencyBits = (currency: CurrencyCode): bigint =>
  [...currency].reduce((bits, letter) => (bits << 5n) | BigInt(letter.charCodeAt(0) - 64), 0n);

export interface SystemAccountKey {
  role: SystemAccountRole;
  currency: CurrencyCode;
  /** Required for `provider_clearing`, absent otherwise. */
  provider?: PaymentProvider;
}

export const systemAccountId = ({ role, currency, provider }: SystemAccountKey): string => {
  if ((role === 'provider_clearing') !== (provider !== undefined)) {
    throw new TypeError(`a ${role} account ${role === 'provider_clearing' ? 'needs' : 'takes no'} provider`);
  }
  const providerCode = provider === undefined ? 0n : BigInt(paymentProviders.indexOf(provider) + 1);
  const timestamp = (BigInt(ROLE_CODES[role]) << 23n) | (providerCode << 15n) | currencyBits(currency);
  return ((timestamp << 22n) | (SYSTEM_NODE_ID << 12n)).toString();
};

/** True for ids derived by `systemAccountId`. */
export const isSystemAccountId = (accountId: string): boolean => {
  const id = BigInt(accountId);
  return ((id >> 12n) & 1023n) === SYSTEM_NODE_ID && id >> 22n < 1n << 29n;
};
