import type { PaymentProvider } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';

const notInThisTest = () => Promise.reject(new Error('not in this test'));

/** The sandbox provider as a payout test scripts it: payouts answer as `submitPayout` says, payments are not used. */
export const payoutOnlyProvider = (submitPayout: ProviderAdapter['submitPayout']): ProviderAdapter => ({
  provider: 'sandbox' as PaymentProvider,
  submitPayment: notInThisTest,
  findPayment: notInThisTest,
  refundPayment: notInThisTest,
  submitPayout,
});
