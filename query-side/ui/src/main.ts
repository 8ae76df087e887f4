/** The transaction history UI: loads the currencies, then renders the page the URL hash names. */
import { api, ApiError, whenKeyRefused } from './api.js';
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

let view = document.getElementById('view') as HTMLElement;
let leave: (() => void) | undefined;

/**
 * Leaves the page shown for a fresh, empty view: a page still loading for an earlier address (or
 * a refused key) then fills an element no longer in the document instead of the page asked for.
 */
const freshView = (): void => {
  leave?.();
  leave = undefined;
  const next = el('main', { id: 'view', tabindex: '-1' });
  view.replaceWith(next);
  view = next;
};

const render = async () => {
  freshView();
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
      document.title = 'Page not found · Folio';
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

const KEY_REFUSED = 'Your key is no longer accepted; sign in again.';

const signInAgain = (notice?: string): void => {
  signOut.hidden = true;
  freshView();
  renderSignInPage(view, () => void start(), notice);
};

// A key revoked while signed in: back to the sign-in form, which then returns to the same address.
whenKeyRefused(() => {
  // Before sign-in is complete, the sign-in form and the start-up check answer a refused key themselves.
  if (signOut.hidden) return;
  forgetKey();
  signInAgain(KEY_REFUSED);
});

/** Signs in first when no key is kept (or the kept one stopped working), then shows the page. */
async function start(): Promise<void> {
  signOut.hidden = true;
  if (storedKey() === null) {
    signInAgain();
    return;
  }
  try {
    knowCurrencies((await api.currencies()).items);
    signOut.hidden = false;
    await render();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      forgetKey();
      signInAgain(KEY_REFUSED);
      return;
    }
    // The server did answer (rate limited, say): its problem detail says why and when to try again.
    replaceChildren(
      view,
      el('h1', {}, error instanceof ApiError ? 'Folio could not be opened' : 'Folio is not reachable'),
      el('p', { role: 'alert' }, error instanceof ApiError ? error.message : 'The server did not answer. Reload the page to try again.'),
    );
  }
}

await start();
