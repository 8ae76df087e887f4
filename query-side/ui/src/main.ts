/** The transaction history UI: loads the currencies, then renders the page the URL hash names. */
import { api } from './api.js';
import { renderAccountPage } from './accountPage.js';
import { el, replaceChildren } from './dom.js';
import { knowCurrencies } from './money.js';
import { parseRoute, rememberSearch } from './routes.js';
import { renderReconciliationPage } from './reconciliationPage.js';
import { renderSearchPage } from './searchPage.js';
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
    case 'reconciliation':
      await renderReconciliationPage(view, route.query);
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

window.addEventListener('hashchange', () => void render());

// The hash names pages, so the skip link moves focus itself rather than following its href.
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  view.focus();
});

try {
  knowCurrencies((await api.currencies()).items);
  await render();
} catch {
  replaceChildren(view, el('h1', {}, 'Folio is not reachable'), el('p', { role: 'alert' }, 'The server did not answer. Reload the page to try again.'));
}
