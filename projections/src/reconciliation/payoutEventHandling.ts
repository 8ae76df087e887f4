/**
 * Folio's own payouts (money out through a provider to a bank account): once paid, the bank the
 * money went to should show it as a credit, matched like a provider's payout, by the provider's
 * reference for it or the payout id, else by amount, currency and date window.
 */
import { paymentCatalog, sortableBigint, type PaymentCatalogEvent, type RecordedEvent } from '@folio/shared';
import { offerPayout } from './bankCreditMatching.js';
import { ledgerEvidence } from './paymentEventHandling.js';
import type { StatementSubject } from './reconciliationDocuments.js';
import { type Context, getSubject, putSubject } from './reconciliationContext.js';

type FolioPayoutSubject = StatementSubject & {
  payout: { payoutId: string; provider: string; amount: string; currency: string; providerRef?: string };
};

export const applyPayoutEvent = async (context: Context, recorded: RecordedEvent): Promise<void> => {
  const event = paymentCatalog.decode(recorded) as PaymentCatalogEvent;
  if (!('payoutId' in event.data)) return;
  const { payoutId } = event.data;
  const id = `folio-payout:${payoutId}`;
  const sortable = sortableBigint(recorded.position);
  const existing = await getSubject<FolioPayoutSubject>(context, id);
  if (existing !== undefined && existing.sortableLastPosition >= sortable) return;
  switch (event.type) {
    case 'PayoutRequested': {
      const { provider, amount, currency } = event.data;
      const requested: FolioPayoutSubject = { _id: id, kind: 'statement', sortableLastPosition: sortable, findings: {}, payout: { payoutId, provider, amount: amount.toString(), currency } };
      putSubject(context, requested);
      return;
    }
    case 'PayoutSubmitted':
      if (existing === undefined) return;
      const submitted: FolioPayoutSubject = { ...existing, sortableLastPosition: sortable, payout: { ...existing.payout, providerRef: event.data.providerRef } };
      putSubject(context, submitted);
      return;
    case 'PayoutPaid': {
      if (existing === undefined) return;
      const paid: FolioPayoutSubject = { ...existing, sortableLastPosition: sortable };
      putSubject(context, paid);
      const { payout } = existing;
      await offerPayout(context, `bank-payout-folio:${payoutId}`, sortable, {
        provider: payout.provider,
        payoutId,
        paidOut: { amount: payout.amount, currency: payout.currency },
        date: event.data.paidAt,
        references: payout.providerRef === undefined ? [payoutId] : [payout.providerRef, payoutId],
        evidence: ledgerEvidence(recorded),
      });
      return;
    }
    default:
      return;
  }
};
