/**
 * Pages live in the URL hash, so every search, transaction and account can be linked to:
 * `#/?q=rent&status=failed`, `#/transactions/<id>`, `#/accounts/<id>`, `#/payments/<id>`,
 * `#/reconciliation?code=…`, `#/audit?account=<id>&position=<n>`.
 */

import { el } from './dom.js';

export type Route =
  | { page: 'search'; query: URLSearchParams }
  | { page: 'transaction'; id: string }
  | { page: 'account'; id: string }
  | { page: 'payment'; id: string }
  | { page: 'reconciliation'; query: URLSearchParams }
  | { page: 'audit'; query: URLSearchParams }
  | { page: 'not-found'; path: string };

export const parseRoute = (hash: string): Route => {
  const path = hash.replace(/^#/, '') || '/';
  const [pathname = '/', search = ''] = path.split('?', 2);
  if (pathname === '/' || pathname === '') return { page: 'search', query: new URLSearchParams(search) };
  if (pathname === '/reconciliation') return { page: 'reconciliation', query: new URLSearchParams(search) };
  if (pathname === '/audit') return { page: 'audit', query: new URLSearchParams(search) };
  const match = /^\/(transactions|accounts|payments)\/([0-9]{1,20})$/.exec(pathname);
  if (match === null) return { page: 'not-found', path };
  const pages = { transactions: 'transaction', accounts: 'account', payments: 'payment' } as const;
  return { page: pages[match[1] as keyof typeof pages], id: match[2]! };
};

export const transactionHref = (id: string): string => `#/transactions/${id}`;
export const accountHref = (id: string): string => `#/accounts/${id}`;
export const paymentHref = (id: string): string => `#/payments/${id}`;
export const auditHref = (query: URLSearchParams): string => {
  const text = query.toString();
  return text === '' ? '#/audit' : `#/audit?${text}`;
};
export const searchHref = (query: URLSearchParams): string => {
  const text = query.toString();
  return text === '' ? '#/' : `#/?${text}`;
};

let lastSearch = '#/';

/** The search page keeps its hash here, so the other pages can link back to that very search. */
export const rememberSearch = (hash: string): void => {
  lastSearch = hash === '' ? '#/' : hash;
};

export const lastSearchHref = (): string => lastSearch;

/** An account id as a link to its page. */
export const accountLink = (id: string): HTMLElement => el('a', { href: accountHref(id), class: 'id' }, id);
