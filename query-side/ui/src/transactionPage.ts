/**
 * A transaction's detail: what was asked, its postings on each side, how its lifecycle went,
 * its references, and links to both accounts.
 */
import { api, type TransactionDetail } from './api.js';
import { el, replaceChildren } from './dom.js';
import { formatTime, labelOf, TYPE_LABELS } from './format.js';
import { money } from './money.js';
import { accountLink, lastSearchHref, paymentHref } from './routes.js';
import { statusBadge } from './transactionTable.js';
import { showLoadError } from './pageErrors.js';

const LEG_LABELS: Record<string, string> = {
  first: 'First leg',
  second: 'Second leg',
  reversal: 'Reversal',
};

const TIMELINE_LABELS: Record<string, string> = {
  requested: 'Requested',
  in_transit: 'In transit',
  completed: 'Completed',
  failed: 'Failed',
};

const term = (name: string, ...value: (Node | string)[]) => [el('dt', {}, name), el('dd', {}, ...value)];


const postingsTable = (detail: TransactionDetail) =>
  el(
    'table',
    { class: 'postings' },
    el('caption', {}, 'Postings'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { scope: 'col' }, 'Leg'),
        el('th', { scope: 'col' }, 'Account'),
        el('th', { scope: 'col', class: 'numeric' }, 'Debit'),
        el('th', { scope: 'col', class: 'numeric' }, 'Credit'),
      ),
    ),
    el(
      'tbody',
      {},
      ...detail.postings.map((posting) =>
        el(
          'tr',
          {},
          el('td', { 'data-label': 'Leg' }, labelOf(LEG_LABELS, posting.leg)),
          el('td', { 'data-label': 'Account' }, accountLink(posting.accountId)),
          el('td', { 'data-label': 'Debit', class: 'numeric' }, posting.side === 'debit' ? money(posting.amount, posting.currency) : ''),
          el('td', { 'data-label': 'Credit', class: 'numeric' }, posting.side === 'credit' ? money(posting.amount, posting.currency) : ''),
        ),
      ),
    ),
  );

const timeline = (detail: TransactionDetail) =>
  el(
    'ol',
    { class: 'timeline' },
    ...detail.timeline.map((entry) =>
      el(
        'li',
        { class: `timeline-${entry.state}` },
        el('span', { class: 'timeline-state' }, labelOf(TIMELINE_LABELS, entry.state)),
        ' ',
        entry.at === null ? null : el('time', { datetime: entry.at }, formatTime(entry.at)),
        entry.detail === null ? null : el('p', { class: 'timeline-detail' }, entry.detail),
      ),
    ),
  );

const references = (detail: TransactionDetail) => {
  const metadata = Object.entries(detail.metadata ?? {});
  return el(
    'dl',
    { class: 'facts' },
    ...term('Transaction id', el('code', {}, detail.id)),
    ...term('Reference', detail.reference ?? '—'),
    ...(detail.providerRef === null ? [] : term('Provider reference', `${detail.provider ?? ''} ${detail.providerRef}`.trim())),
    ...metadata.flatMap(([key, value]) => term(key, value)),
  );
};

export const renderTransactionPage = async (view: HTMLElement, id: string): Promise<void> => {
  replaceChildren(view, el('p', { class: 'loading' }, 'Loading transaction…'));
  let detail: TransactionDetail;
  try {
    detail = await api.transaction(id);
  } catch (error) {
    showLoadError(view, 'Transaction', error);
    return;
  }
  const title = `${labelOf(TYPE_LABELS, detail.type)} ${detail.reference ?? detail.id}`;
  document.title = `${title} · Folio`;
  replaceChildren(
    view,
    el('p', { class: 'breadcrumbs' }, el('a', { href: lastSearchHref() }, '← Back to search')),
    el('h1', { tabindex: '-1' }, title, ' ', statusBadge(detail.status)),
    el('p', { class: 'headline-amount' }, money(detail.amount, detail.currency)),
    detail.description === null ? null : el('p', { class: 'description' }, detail.description),
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
          ...term('From account', accountLink(detail.fromAccountId)),
          ...term('To account', accountLink(detail.toAccountId)),
          ...term('Type', labelOf(TYPE_LABELS, detail.type)),
          ...term('Requested', formatTime(detail.requestedAt)),
          ...term('Ended', formatTime(detail.endedAt)),
          ...(detail.paymentId === null ? [] : term('Payment', el('a', { href: paymentHref(detail.paymentId), class: 'id payment-link' }, detail.paymentId))),
          ...(detail.payoutId === null ? [] : term('Payout', el('code', {}, detail.payoutId))),
          ...(detail.failureReason === null ? [] : term('Failure', `${detail.failureReason.type}: ${detail.failureReason.detail}`)),
        ),
      ),
      el('section', { 'aria-labelledby': 'timeline-heading' }, el('h2', { id: 'timeline-heading' }, 'Lifecycle'), timeline(detail)),
      el('section', { 'aria-labelledby': 'postings-heading', class: 'wide' }, el('h2', { id: 'postings-heading' }, 'Debit and credit'), postingsTable(detail)),
      el('section', { 'aria-labelledby': 'references-heading' }, el('h2', { id: 'references-heading' }, 'References'), references(detail)),
    ),
  );
  view.querySelector('h1')?.focus();
};
