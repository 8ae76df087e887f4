import { systemAccountId, type CurrencyCode, type DiscrepancyResolution, type PaymentProvider } from '@folio/shared';

/**
 * Which system accounts a resolution moves money between. The provider clearing account holds
 * what the provider owes Folio:
 * - suspense: money the provider holds with nothing behind it in the books (a ghost charge, a
 *   difference) is booked from clearing to suspense until it is explained;
 * - refund: the payer got money back from suspense, which leaves the provider's balance;
 * - write-off: a receivable the provider never had (a capture it never saw) is taken off
 *   clearing as a cost, to the fees account.
 */
export const correctionRoute = (
  resolution: Exclude<DiscrepancyResolution, 'no_action'>,
  provider: PaymentProvider,
  currency: CurrencyCode,
): { from: string; to: string } => {
  const clearing = systemAccountId({ role: 'provider_clearing', currency, provider });
  const suspense = systemAccountId({ role: 'suspense', currency });
  switch (resolution) {
    case 'suspense':
      return { from: clearing, to: suspense };
    case 'refund':
      return { from: suspense, to: clearing };
    case 'write_off':
      return { from: systemAccountId({ role: 'fees', currency }), to: clearing };
  }
};
