/**
 * A payment's detail: its state and money, the provider's reference, when it reached each state,
 * its refunds, and links to the merchant's account and to the transactions of its journals.
 */
import { api, type Payment, type PaymentActivity, type Transaction } from './api.js';
import { el, replaceChildren } from './dom.js';
import { formatTime, labelOf, PAYMENT_STATE_LABELS, STATUS_LABELS, TYPE_LABELS } from './format.js';
import { money } from './money.js';
import { showLoadError } from './pageErrors.js';
import { accountLink, lastSearchHref, searchHref, transactionHref } from './routes.js';

const REFUND_STATE_LABELS: Record<string, string> = {
  requested: 'Requested',
  refunded: 'Refunded',
  failed: 'Failed',
};

const term = (name: string, ...value: (Node | string)[]) => [el('dt', {}, name), el('dd', {}, ...value)];

const stateBadge = (state: string) => el('span', { class: `badge badge-payment-${state.toLowerCase()}` }, labelOf(PAYMENT_STATE_LABELS, state));

const timeline = (activity: PaymentActivity) =>
  el(
    'ol',
    { class: 'timeline payment-timeline' },
    ...activity.timeline.map((entry) =>
      el(
        'li',
        { class: `timeline-${entry.state.toLowerCase()}` },
        el('span', { class: 'timeline-state' }, labelOf(PAYMENT_STATE_LABELS, entry.state)),
        ' ',
        el('time', { datetime: entry.at }, formatTime(entry.at)),
      ),
    ),
  );

const refundsTable = (payment: Payment, activity: PaymentActivity) =>
  activity.refunds.length === 0
    ? el('p', { class: 'empty' }, 'No refunds.')
    : el(
        'table',
        { class: 'refunds' },
        el('caption', { class: 'visually-hidden' }, 'Refunds'),
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            el('th', { scope: 'col' }, 'Refund'),
            el('th', { scope: 'col' }, 'State'),
            el('th', { scope: 'col' }, 'When'),
            el('th', { scope: 'col', class: 'numeric' }, 'Amount'),
          ),
        ),
        el(
          'tbody',
          {},
          ...activity.refunds.map((refund) =>
            el(
              'tr',
              {},
              el(
                'td',
                { 'data-label': 'Refund' },
                refund.state === 'refunded' ? el('a', { href: transactionHref(refund.refundId), class: 'id' }, refund.refundId) : el('code', {}, refund.refundId),
              ),
              el(
                'td',
                { 'data-label': 'State' },
                labelOf(REFUND_STATE_LABELS, refund.state),
                refund.failureReason === null ? null : ` (${refund.failureReason.type}: ${refund.failureReason.detail})`,
              ),
              el('td', { 'data-label': 'When' }, formatTime(refund.at)),
              el('td', { 'data-label': 'Amount', class: 'numeric' }, money(refund.amount, payment.currency)),
            ),
          ),
        ),
      );

/** The transactions its journals posted, as the history has them. */
const journalList = (journals: readonly Transaction[]) =>
  journals.length === 0
    ? el('p', { class: 'empty' }, 'Nothing posted yet.')
    : el(
        'ul',
        { class: 'payment-journals' },
        ...journals.map((journal) =>
          el(
            'li',
            {},
            el('a', { href: transactionHref(journal.id) }, labelOf(TYPE_LABELS, journal.type)),
            ` · ${labelOf(STATUS_LABELS, journal.status)} · ${money(journal.amount, journal.currency)}`,
          ),
        ),
      );

export const renderPaymentPage = async (view: HTMLElement, id: string): Promise<void> => {
  replaceChildren(view, el('p', { class: 'loading' }, 'Loading payment…'));
  let payment: Payment;
  let activity: PaymentActivity;
  let journals: Transaction[];
  try {
    [payment, activity, journals] = await Promise.all([
      api.payment(id),
      api.paymentActivity(id),
      api.searchTransactions({ payment: id, sort: 'requestedAt', limit: '100' }).then((page) => page.items),
    ]);
  } catch (error) {
    showLoadError(view, 'Payment', error);
    return;
  }
  const title = `Payment ${payment.description ?? payment.id}`;
  document.title = `${title} · Folio`;
  const journalsSearch = searchHref(new URLSearchParams({ q: payment.providerRef ?? payment.id }));
  replaceChildren(
    view,
    el('p', { class: 'breadcrumbs' }, el('a', { href: lastSearchHref() }, '← Back to search')),
    el('h1', { tabindex: '-1' }, title, ' ', stateBadge(payment.state)),
    el('p', { class: 'headline-amount' }, money(payment.amount, payment.currency)),
    payment.flaggedForReconciliation ? el('p', { class: 'error', role: 'note' }, 'A provider callback disagreed with the books: this payment needs reconciliation.') : null,
    el(
      'div',
      { class: 'detail-grid' },
      el(
        'section',
        { 'aria-labelledby': 'summary-heading' },
        el('h2', { id: 'summary-heading' }, 'Summary'),
        el(
          'dl',
          { class: 'facts' },
          ...term('Merchant account', accountLink(payment.merchantAccountId)),
          ...term('Provider', payment.provider),
          ...term('Provider reference', payment.providerRef === null ? '—' : el('code', { class: 'provider-ref' }, payment.providerRef)),
          ...term('Captured', money(payment.captured, payment.currency)),
          ...term('Refunded', money(payment.refunded, payment.currency)),
          ...term('Refundable', money(payment.refundable, payment.currency)),
          ...term('Fee', payment.fee === null ? '—' : money(payment.fee, payment.currency)),
          ...term('Net', payment.net === null ? '—' : money(payment.net, payment.currency)),
          ...(payment.failureReason === null ? [] : term('Failure', payment.failureReason)),
          ...term('Customer reference', payment.customerRef ?? '—'),
          ...term('Callbacks received', String(activity.callbacks.received)),
        ),
      ),
      el('section', { 'aria-labelledby': 'timeline-heading' }, el('h2', { id: 'timeline-heading' }, 'Lifecycle'), timeline(activity)),
      el('section', { 'aria-labelledby': 'refunds-heading', class: 'wide' }, el('h2', { id: 'refunds-heading' }, 'Refunds'), refundsTable(payment, activity)),
      el(
        'section',
        { 'aria-labelledby': 'journals-heading' },
        el('h2', { id: 'journals-heading' }, 'Transactions'),
        journalList(journals),
        el('p', {}, el('a', { href: journalsSearch }, 'Search the history for this payment')),
      ),
      el(
        'section',
        { 'aria-labelledby': 'references-heading' },
        el('h2', { id: 'references-heading' }, 'References'),
        el('dl', { class: 'facts' }, ...term('Payment id', el('code', {}, payment.id)), ...term('Created', formatTime(payment.createdAt))),
      ),
    ),
  );
  view.querySelector('h1')?.focus();
};
