/** The table of transactions that search results and account histories share. */
import type { Transaction } from './api.js';
import { el } from './dom.js';
import { formatTime, labelOf, STATUS_LABELS, TYPE_LABELS } from './format.js';
import { money } from './money.js';
import { accountLink, transactionHref } from './routes.js';

export type SortKey = 'requestedAt' | 'amount';
export type Sort = `${'' | '-'}${SortKey}`;

export interface TableOptions {
  caption: string;
  /** Current sort and how to change it; without it the headers do not sort. */
  sort?: { current: Sort; onSort: (sort: Sort) => void };
  /** The account whose history this is: its side of each movement is marked. */
  account?: string;
}

export const statusBadge = (status: string): HTMLElement =>
  el('span', { class: `badge badge-${status}` }, labelOf(STATUS_LABELS, status));

const partyOf = (id: string, current?: string): HTMLElement =>
  id === current ? el('span', { class: 'id', title: 'this account' }, 'this account') : accountLink(id);

const sortHeader = (label: string, key: SortKey, numeric: boolean, options: TableOptions): HTMLElement => {
  const sort = options.sort;
  const className = numeric ? 'numeric' : undefined;
  if (sort === undefined) return el('th', { scope: 'col', class: className }, label);
  const active = sort.current.replace('-', '') === key;
  const descending = sort.current.startsWith('-');
  const next: Sort = active && descending ? key : `-${key}`;
  return el(
    'th',
    { scope: 'col', class: className, 'aria-sort': active ? (descending ? 'descending' : 'ascending') : 'none' },
    el(
      'button',
      { type: 'button', class: 'sort', onclick: () => sort.onSort(next), 'data-sort': key },
      label,
      el('span', { 'aria-hidden': 'true', class: 'sort-mark' }, active ? (descending ? ' ▼' : ' ▲') : ' ↕'),
    ),
  );
};

const row = (transaction: Transaction, options: TableOptions): HTMLElement => {
  const outgoing = options.account !== undefined && transaction.fromAccountId === options.account;
  const label = transaction.reference ?? `${labelOf(TYPE_LABELS, transaction.type)} ${transaction.id}`;
  return el(
    'tr',
    { 'data-transaction-id': transaction.id },
    el('td', { 'data-label': 'Requested' }, el('time', { datetime: transaction.requestedAt }, formatTime(transaction.requestedAt))),
    el('td', { 'data-label': 'Reference', class: 'reference' }, el('a', { href: transactionHref(transaction.id), class: 'row-link' }, label)),
    el('td', { 'data-label': 'Description', class: 'description' }, transaction.description ?? ''),
    el('td', { 'data-label': 'Type' }, labelOf(TYPE_LABELS, transaction.type)),
    el('td', { 'data-label': 'Status' }, statusBadge(transaction.status)),
    el(
      'td',
      { 'data-label': 'From → to', class: 'parties' },
      partyOf(transaction.fromAccountId, options.account),
      el('span', { 'aria-hidden': 'true' }, ' → '),
      el('span', { class: 'visually-hidden' }, ' to '),
      partyOf(transaction.toAccountId, options.account),
    ),
    el(
      'td',
      { 'data-label': 'Amount', class: `numeric amount${outgoing ? ' outgoing' : ''}` },
      `${outgoing ? '−' : ''}${money(transaction.amount, transaction.currency)}`,
    ),
  );
};

export const transactionTable = (items: readonly Transaction[], options: TableOptions): HTMLElement =>
  el(
    'table',
    { class: 'transactions' },
    el('caption', { class: 'visually-hidden' }, options.caption),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        sortHeader('Requested', 'requestedAt', false, options),
        el('th', { scope: 'col' }, 'Reference'),
        el('th', { scope: 'col' }, 'Description'),
        el('th', { scope: 'col' }, 'Type'),
        el('th', { scope: 'col' }, 'Status'),
        el('th', { scope: 'col' }, 'From → to'),
        sortHeader('Amount', 'amount', true, options),
      ),
    ),
    el('tbody', {}, ...items.map((item) => row(item, options))),
  );

/** Arrow keys move between the rows' links, so a list can be read without the mouse. */
export const arrowKeyNavigation = (container: HTMLElement): void => {
  container.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const links = [...container.querySelectorAll<HTMLAnchorElement>('a.row-link')];
    const at = links.indexOf(document.activeElement as HTMLAnchorElement);
    if (at === -1) return;
    const next = links[event.key === 'ArrowDown' ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0)];
    next?.focus();
    event.preventDefault();
  });
};
