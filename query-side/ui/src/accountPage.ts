/** An account: its balances now, its posted balance over time, and its history, newest first. */
import { api, type Balance, type BalancePoints, type Transaction } from './api.js';
import { balanceChart } from './balanceChart.js';
import { el, replaceChildren } from './dom.js';
import { formatTime } from './format.js';
import { exponentOf, money } from './money.js';
import { showLoadError } from './pageErrors.js';
import { auditHref, lastSearchHref, searchHref } from './routes.js';
import { arrowKeyNavigation, transactionTable } from './transactionTable.js';

const fact = (name: string, value: string, className?: string) =>
  el('div', { class: `balance-fact ${className ?? ''}` }, el('dt', {}, name), el('dd', {}, value));

export const renderAccountPage = async (view: HTMLElement, id: string): Promise<void> => {
  replaceChildren(view, el('p', { class: 'loading' }, 'Loading account…'));
  let balance: Balance;
  let points: BalancePoints;
  let firstPage: { items: Transaction[]; nextCursor: string | null };
  try {
    [balance, points, firstPage] = await Promise.all([api.balance(id), api.balancePoints(id), api.history(id)]);
  } catch (error) {
    showLoadError(view, 'Account', error);
    return;
  }
  document.title = `Account ${id} · Folio`;
  const exponent = exponentOf(balance.currency) ?? 0;
  const items = [...firstPage.items];
  let nextCursor = firstPage.nextCursor;
  const historyHolder = el('div', { class: 'results' });
  const more = el('button', { type: 'button', class: 'secondary' }, 'Load older transactions');
  const historyStatus = el('p', { class: 'results-status', role: 'status', 'aria-live': 'polite' });
  arrowKeyNavigation(historyHolder);

  const showHistory = () => {
    historyStatus.textContent = items.length === 0 ? 'No transactions on this account yet.' : `${items.length} most recent transactions shown.`;
    replaceChildren(historyHolder, items.length === 0 ? null : transactionTable(items, { caption: `History of account ${id}`, account: id }));
    more.hidden = nextCursor === null;
  };
  more.addEventListener('click', async () => {
    if (nextCursor === null) return;
    // Disabling or hiding the button drops its focus to the top of the page: hand it to the first row loaded instead.
    const hadFocus = document.activeElement === more;
    more.disabled = true;
    try {
      const page = await api.history(id, nextCursor);
      const firstLoaded = items.length;
      items.push(...page.items);
      nextCursor = page.nextCursor;
      showHistory();
      if (hadFocus) historyHolder.querySelectorAll<HTMLAnchorElement>('a.row-link')[firstLoaded]?.focus();
    } catch {
      historyStatus.textContent = 'Older transactions could not be loaded. Try again.';
    } finally {
      more.disabled = false;
    }
  });

  replaceChildren(
    view,
    el('p', { class: 'breadcrumbs' }, el('a', { href: lastSearchHref() }, '← Back to search')),
    el('h1', { tabindex: '-1' }, 'Account ', el('span', { class: 'id' }, id)),
    el(
      'p',
      { class: 'account-meta' },
      `${balance.kind} account of ${balance.ownerId} · ${balance.currency} · `,
      el('span', { class: `badge badge-${balance.status}` }, balance.status),
      ` · as of ${formatTime(balance.updatedAt)} · `,
      el('a', { href: auditHref(new URLSearchParams({ account: id, position: balance.position })) }, 'As of…'),
    ),
    el(
      'dl',
      { class: 'balances' },
      fact('Posted balance', money(balance.posted, balance.currency), 'primary'),
      fact('Available', money(balance.available, balance.currency)),
      fact('Pending', money(balance.pending, balance.currency)),
      fact('Overdraft limit', money(balance.overdraftLimit, balance.currency)),
    ),
    el(
      'section',
      { 'aria-labelledby': 'chart-heading', class: 'chart-section' },
      el('h2', { id: 'chart-heading' }, 'Balance over time'),
      balanceChart(points.items, balance.currency, exponent, 'balance-chart-title'),
      points.truncated ? el('p', { class: 'hint' }, `The latest ${points.items.length} postings are shown.`) : null,
    ),
    el(
      'section',
      { 'aria-labelledby': 'history-heading' },
      el('h2', { id: 'history-heading' }, 'History'),
      el('p', {}, el('a', { href: searchHref(new URLSearchParams({ account: id })) }, 'Search and filter this account’s transactions')),
      historyStatus,
      historyHolder,
      more,
    ),
  );
  showHistory();
  view.querySelector('h1')?.focus();
};
