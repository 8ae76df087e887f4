/** The transaction history UI: loads the currencies, then renders the page the URL hash names. */
import { api, ApiError } from './api.js';
import { renderAccountPage } from './accountPage.js';
import { renderAuditPage } from './auditPage.js';
import { el, replaceChildren } from './dom.js';
import { knowCurrencies } from './money.js';
import { renderPaymentPage } from './paymentPage.js';
import { parseRoute, rememberSearch } from './routes.js';
import { renderReconciliationPage } from './reconciliationPage.js';
import { renderSearchPage } from './searchPage.js';
import { forgetKey, storedKey } from './session.js';
import { renderSignInPage } from './signInPage.js';
import { renderTransactionPage } from './transactionPage.js';

const view = document.getElementById('view') as HTMLElement;
let leave: (() => void) | undefined;

const render = async () => {
  leave?.();
  leave = undefined;
  const route = parseRoute(location.hash);
  switch (route.page) {
    case 'search':
      document.title = 'Transactions · Folio';
      rememberSearch(location.hash);
      leave = renderSearchPage(view, route.query);
      break;
    case 'transaction':
      await renderTransactionPage(view, route.id);
      break;
    case 'account':
      await renderAccountPage(view, route.id);
      break;
    case 'payment':
      await renderPaymentPage(view, route.id);
      break;
    case 'reconciliation':
      await renderReconciliationPage(view, route.query);
      break;
    case 'audit':
      await renderAuditPage(view, route.query);
      break;
    case 'not-found':
      replaceChildren(view, el('h1', {}, 'Page not found'), el('p', {}, el('a', { href: '#/' }, 'Search transactions')));
  }
};

// "/" jumps to the search box from anywhere, as in most search UIs.
document.addEventListener('keydown', (event) => {
  if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target as HTMLElement;
  if (target.closest('input, select, textarea') !== null) return;
  event.preventDefault();
  const box = document.getElementById('q');
  if (box !== null) box.focus();
  else location.hash = '#/';
});

window.addEventListener('hashchange', () => {
  if (storedKey() !== null) void render();
});

// The hash names pages, so the skip link moves focus itself rather than following its href.
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  view.focus();
});

const signOut = el('button', { type: 'button', class: 'sign-out', hidden: true }, 'Sign out');
signOut.addEventListener('click', () => {
  forgetKey();
  void start();
});
document.querySelector('header.top')?.appendChild(signOut);

/** Signs in first when no key is kept (or the kept one stopped working), then shows the page. */
async function start(): Promise<void> {
  signOut.hidden = true;
  if (storedKey() === null) {
    renderSignInPage(view, () => void start());
    return;
  }
  try {
    knowCurrencies((await api.currencies()).items);
    signOut.hidden = false;
    await render();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      forgetKey();
      renderSignInPage(view, () => void start(), 'Your key is no longer accepted; sign in again.');
      return;
    }
    replaceChildren(view, el('h1', {}, 'Folio is not reachable'), el('p', { role: 'alert' }, 'The server did not answer. Reload the page to try again.'));
  }
}

await start();
