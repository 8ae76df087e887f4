import { sortableBigint, type DocumentSession, type PaymentCatalogEvent, type RecordedEvent } from '@folio/shared';
import { isPaymentEventType, paymentEventOf } from '../paymentEvents.js';
import type { ProjectionDefinition } from '../runtime/projection.js';
import { evolvePayment, type PaymentDocument } from './paymentDocument.js';
import { evolvePayout, type PayoutDocument } from './payoutDocument.js';

type Role = 'payments' | 'payouts';

/** The document an event changes: the payment's or the payout's. */
const targetOf = (event: PaymentCatalogEvent): { role: Role; id: string } | undefined => {
  const data = event.data as { paymentId?: string; payoutId?: string };
  if (event.type.startsWith('Payment') && data.paymentId !== undefined) return { role: 'payments', id: data.paymentId };
  if (event.type.startsWith('Payout') && data.payoutId !== undefined) return { role: 'payouts', id: data.payoutId };
  return undefined;
};

type Folded = PaymentDocument | PayoutDocument;

/**
 * Folds a batch into the payments and payouts it touches; each document ignores events at or
 * before the position it reflects, so a replayed batch changes nothing.
 */
export const foldPayments = async (
  events: readonly RecordedEvent[],
  /** Those of `ids` that exist, read in one go. */
  load: (role: Role, ids: readonly string[]) => Promise<Map<string, Folded>>,
): Promise<Map<string, { role: Role; document: Folded }>> => {
  const changed = new Map<string, { role: Role; document: Folded }>();
  const decoded = events.flatMap((recorded) => {
    if (!isPaymentEventType(recorded.type)) return [];
    const event = paymentEventOf(recorded);
    const target = targetOf(event);
    return target === undefined ? [] : [{ recorded, event, target }];
  });
  const stored = new Map<Role, Map<string, Folded>>();
  for (const role of new Set(decoded.map(({ target }) => target.role))) {
    stored.set(role, await load(role, [...new Set(decoded.filter(({ target }) => target.role === role).map(({ target }) => target.id))]));
  }
  for (const { recorded, event, target } of decoded) {
    const key = `${target.role}:${target.id}`;
    const current = changed.has(key) ? changed.get(key)!.document : stored.get(target.role)!.get(target.id);
    if (current !== undefined && current.sortableLastPosition >= sortableBigint(recorded.position)) continue;
    const next =
      target.role === 'payments'
        ? evolvePayment(current as PaymentDocument | undefined, event, recorded)
        : evolvePayout(current as PayoutDocument | undefined, event, recorded);
    if (next !== undefined) changed.set(key, { role: target.role, document: next });
  }
  return changed;
};

/** Payments and payouts, one document each, found by id, by merchant, by state or by the provider's reference. */
export const paymentsProjection: ProjectionDefinition = {
  name: 'payments',
  // 2: refunds say whether they await the provider's answer (`PaymentRefundAccepted` records it).
  version: 2,
  filter: { streamNamePrefixes: ['payment-', 'payout-'] },
  roles: ['payments', 'payouts'],
  indexes: {
    payments: [['provider', 'providerRef'], ['merchantAccountId', 'sortableId'], ['state', 'sortableId'], ['sortableId']],
    payouts: [['provider', 'providerRef'], ['accountId', 'sortableId']],
  },
  prepare: (recorded) => {
    if (isPaymentEventType(recorded.type)) paymentEventOf(recorded);
  },
  create: ({ collections }) => ({
    async handle(events: readonly RecordedEvent[], session: DocumentSession): Promise<void> {
      const changed = await foldPayments(events, (role, ids) => session.getMany<Folded>(collections[role]!, ids));
      const byRole = new Map<string, Folded[]>();
      for (const { role, document } of changed.values()) {
        const documents = byRole.get(role);
        if (documents === undefined) byRole.set(role, [document]);
        else documents.push(document);
      }
      for (const [role, documents] of byRole) await session.putMany(collections[role]!, documents);
    },
  }),
};
