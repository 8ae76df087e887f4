/**
 * The search page: a search box answering as you type, filters, and a sortable, paged table.
 * The form's state and the page shown live in the URL hash (replaced, not pushed, as you type),
 * so a search can be bookmarked, shared and returned to with Back on the page it was left on.
 */
import { parseAmountInput } from './amounts.js';
import { api, ApiError, type TransactionPage } from './api.js';
import { el, replaceChildren } from './dom.js';
import { STATUS_LABELS, TYPE_LABELS } from './format.js';
import { currencyCodes, exponentOf } from './money.js';
import { paymentHref, rememberSearch, searchHref } from './routes.js';
import { arrowKeyNavigation, transactionTable, type Sort } from './transactionTable.js';

const TYPING_PAUSE_MS = 100;
const PAGE_SIZE = '25';
const FIELDS = ['q', 'account', 'type', 'status', 'currency', 'min', 'max', 'from', 'to', 'sort'] as const;
type Field = (typeof FIELDS)[number];

const select = (id: Field, label: string, options: [string, string][], value: string) =>
  el(
    'div',
    { class: 'field' },
    el('label', { for: id }, label),
    el(
      'select',
      { id, name: id },
      el('option', { value: '' }, 'Any'),
      ...options.map(([optionValue, text]) => el('option', { value: optionValue, selected: optionValue === value }, text)),
    ),
  );

const input = (id: Field, label: string, attributes: Record<string, string>, value: string) =>
  el(
    'div',
    { class: 'field' },
    el('label', { for: id, id: `${id}-label` }, label),
    el('input', { id, name: id, value, 'aria-describedby': `${id}-error`, ...attributes }),
    el('span', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' }),
  );

export const renderSearchPage = (view: HTMLElement, initial: URLSearchParams): (() => void) => {
  const value = (field: Field) => initial.get(field) ?? '';
  const form = el(
    'form',
    { role: 'search', class: 'search-form', 'aria-label': 'Search transactions', onsubmit: (event: Event) => event.preventDefault() },
    el(
      'div',
      { class: 'field search-box' },
      el('label', { for: 'q' }, 'Search transactions'),
      el('input', {
        id: 'q',
        name: 'q',
        type: 'search',
        value: value('q'),
        placeholder: 'Reference, description, metadata or account id',
        autocomplete: 'off',
        spellcheck: 'false',
        'aria-describedby': 'q-hint q-error',
      }),
      el('span', { class: 'hint', id: 'q-hint' }, 'Results update as you type. Press / to come back here.'),
      el('span', { class: 'field-error', id: 'q-error', 'aria-live': 'polite' }),
    ),
    el(
      'details',
      // Folded on a phone unless a filter is set, so the results are not pushed off the screen.
      { class: 'filters-panel', open: window.matchMedia('(min-width: 721px)').matches || [...initial.keys()].some((name) => !['q', 'sort', 'cursor'].includes(name)) },
      el('summary', {}, 'Filters'),
      el(
        'fieldset',
        { class: 'filters' },
        el('legend', { class: 'visually-hidden' }, 'Filters'),
        input('account', 'Account id', { inputmode: 'numeric', autocomplete: 'off', pattern: '[0-9]*' }, value('account')),
        select('status', 'Status', Object.entries(STATUS_LABELS), value('status')),
        select('type', 'Type', Object.entries(TYPE_LABELS), value('type')),
        select('currency', 'Currency', currencyCodes().map((code) => [code, code]), value('currency')),
        input('min', 'Amount from', { inputmode: 'decimal', autocomplete: 'off' }, value('min')),
        input('max', 'Amount to', { inputmode: 'decimal', autocomplete: 'off' }, value('max')),
        // The API reads a date as a UTC day, the zone every time on these pages is shown in.
        input('from', 'Requested from (UTC)', { type: 'date' }, value('from')),
        input('to', 'Requested to (UTC)', { type: 'date' }, value('to')),
        el('div', { class: 'field field-actions' }, el('button', { type: 'button', class: 'secondary', id: 'clear-filters' }, 'Clear filters')),
      ),
    ),
  );
  const status = el('p', { class: 'results-status', role: 'status', 'aria-live': 'polite' });
  const results = el('div', { class: 'results' });
  const payments = el('div', { class: 'payment-matches' });
  const pager = el('nav', { class: 'pager', 'aria-label': 'Result pages' });
  replaceChildren(view, el('h1', {}, 'Transactions'), form, status, payments, results, pager);
  arrowKeyNavigation(results);

  const field = (name: Field) => form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
  const read = (name: Field) => field(name)?.value.trim() ?? '';
  let sort = (value('sort') || '-requestedAt') as Sort;
  /** Cursors of the pages before the current one, and of the current one; those after the first are in the URL. */
  let cursors: (string | undefined)[] = [undefined, ...initial.getAll('cursor')];
  let inFlight: AbortController | undefined;
  let timer: number | undefined;
  /** Counts the pages shown, so a late explanation of an empty page does not replace a newer one. */
  let rendered = 0;

  const showError = (name: Field, message: string) => {
    const target = document.getElementById(`${name}-error`);
    if (target !== null) target.textContent = message;
    field(name)?.setAttribute('aria-invalid', message === '' ? 'false' : 'true');
  };

  const amountLabels = () => {
    const currency = read('currency');
    const unit = currency === '' ? 'minor units' : currency;
    for (const name of ['min', 'max'] as const) {
      const label = document.getElementById(`${name}-label`);
      if (label !== null) label.textContent = `Amount ${name === 'min' ? 'from' : 'to'} (${unit})`;
    }
  };

  /** The API query of the form, or undefined when a field is not valid yet (its error shown). */
  const apiQuery = (): Record<string, string | undefined> | undefined => {
    let valid = true;
    const currency = read('currency');
    const exponent = currency === '' ? 0 : (exponentOf(currency) ?? 0);
    const amounts: Record<string, string | undefined> = {};
    for (const [name, parameter] of [['min', 'minAmount'], ['max', 'maxAmount']] as const) {
      const text = read(name);
      showError(name, '');
      if (text === '') continue;
      const parsed = parseAmountInput(text, exponent);
      if (parsed.ok) amounts[parameter] = parsed.minorUnits;
      else {
        showError(name, currency === '' && text.includes('.') ? 'without a currency, amounts are in minor units: choose one to type decimals' : parsed.message);
        valid = false;
      }
    }
    // The API would refuse these too, but in minor units and parameter names rather than the form's words.
    if (amounts['minAmount'] !== undefined && amounts['maxAmount'] !== undefined && BigInt(amounts['minAmount']) > BigInt(amounts['maxAmount'])) {
      showError('max', 'must not be below the amount from');
      valid = false;
    }
    const datesReversed = read('from') !== '' && read('to') !== '' && read('to') < read('from');
    showError('to', datesReversed ? 'must not be before the date from' : '');
    if (datesReversed) valid = false;
    const account = read('account');
    showError('account', /^[0-9]*$/.test(account) ? '' : 'an account id is digits only');
    if (!/^[0-9]*$/.test(account)) valid = false;
    if (!valid) return undefined;
    return {
      q: read('q'),
      account,
      type: read('type'),
      status: read('status'),
      currency,
      ...amounts,
      from: read('from'),
      to: read('to'),
      sort,
      limit: PAGE_SIZE,
    };
  };

  const remember = () => {
    const query = new URLSearchParams();
    for (const name of FIELDS) {
      const text = name === 'sort' ? (sort === '-requestedAt' ? '' : sort) : read(name);
      if (text !== '') query.set(name, text);
    }
    for (const cursor of cursors.slice(1)) if (cursor !== undefined) query.append('cursor', cursor);
    history.replaceState(null, '', searchHref(query));
    rememberSearch(location.hash);
  };

  const hasFilters = () => FIELDS.some((name) => name !== 'sort' && read(name) !== '');

  /** The pager or sort button that has the focus, to give it back once the results are rebuilt. */
  const focusedControl = (): string | undefined => {
    const active = document.activeElement;
    if (!(active instanceof HTMLButtonElement)) return undefined;
    if (active.dataset['sort'] !== undefined) return `button[data-sort="${active.dataset['sort']}"]`;
    if (active.dataset['pager'] !== undefined) return `button[data-pager="${active.dataset['pager']}"]`;
    return undefined;
  };

  const showPage = (page: TransactionPage) => {
    rendered++;
    const refocus = focusedControl();
    // The pager steps from the page shown, so a second click before the next page arrives asks for the same page again.
    const shown = cursors;
    const pageNumber = shown.length;
    if (page.items.length === 0) {
      status.textContent = hasFilters() ? 'No transactions match.' : 'No transactions yet.';
      replaceChildren(
        results,
        el('p', { class: 'empty' }, hasFilters() ? 'Nothing matches these words and filters. Try fewer words or clear the filters.' : 'Nothing to show yet.'),
      );
      if (!hasFilters()) void explainEmpty(rendered);
    } else {
      status.textContent = `Page ${pageNumber}: ${page.items.length} transaction${page.items.length === 1 ? '' : 's'}${page.nextCursor === null ? '' : ', more on the next page'}.`;
      replaceChildren(
        results,
        transactionTable(page.items, {
          caption: 'Transactions found',
          sort: {
            current: sort,
            onSort: (next) => {
              sort = next;
              void search(true);
            },
          },
        }),
      );
    }
    replaceChildren(
      pager,
      el(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-pager': 'previous',
          disabled: shown.length === 1,
          onclick: () => {
            cursors = shown.slice(0, -1);
            void search(false);
          },
        },
        '← Previous page',
      ),
      el('span', { class: 'page-number' }, `Page ${pageNumber}`),
      el(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-pager': 'next',
          disabled: page.nextCursor === null,
          onclick: () => {
            cursors = [...shown, page.nextCursor ?? undefined];
            void search(false);
          },
        },
        'Next page →',
      ),
    );
    // Rebuilding the buttons would drop a keyboard user's focus to the top of the page; a disabled one passes it on.
    if (refocus !== undefined) {
      const control = view.querySelector<HTMLButtonElement>(refocus);
      (control !== null && !control.disabled ? control : pager.querySelector<HTMLButtonElement>('button:not(:disabled)'))?.focus();
    }
  };

  /** Nothing found and nothing asked: an empty ledger (offer the demo), or read models still catching up. */
  const explainEmpty = async (page: number) => {
    const progress = await api.projections().catch(() => undefined);
    if (progress === undefined || page !== rendered) return;
    // The log may hold events that are no transactions (API keys): caught up and nothing found is empty too.
    const catchingUp = progress.projections.some((projection) => !projection.caughtUp);
    if (progress.headPosition === null || !catchingUp) {
      replaceChildren(
        results,
        el(
          'div',
          { class: 'empty' },
          el('p', {}, 'The ledger is empty. To see the UI populated with realistic data, run this beside the server:'),
          el('pre', {}, el('code', {}, 'npm run demo')),
          el('p', {}, 'It opens accounts in several currencies and writes deposits and transfers for a minute.'),
        ),
      );
    } else {
      replaceChildren(results, el('p', { class: 'empty' }, 'The read models are still catching up with the log: transactions appear here shortly. Search again in a moment.'));
    }
  };

  /** A search text that is a provider's reference also finds its payment. */
  const findPayments = async (text: string, signal: AbortSignal) => {
    const found = text === '' || /\s/.test(text) ? [] : await api.findPayments({ providerRef: text }, signal).then((page) => page.items, () => []);
    if (signal.aborted) return;
    replaceChildren(
      payments,
      found.length === 0
        ? null
        : el(
            'p',
            { class: 'payment-match' },
            found.length === 1 ? 'Payment with this provider reference: ' : 'Payments with this provider reference: ',
            ...found.map((payment) => el('a', { href: paymentHref(payment.id), class: 'id' }, `${payment.provider} ${payment.id}`)),
          ),
    );
  };

  /** Runs the form's search; `fromStart` goes back to page 1 (the filters or sort changed). */
  const search = async (fromStart: boolean) => {
    amountLabels();
    const query = apiQuery();
    if (query === undefined) return;
    if (fromStart) cursors = [undefined];
    remember();
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    view.setAttribute('aria-busy', 'true');
    showError('q', '');
    try {
      void findPayments(read('q'), controller.signal);
      const page = await api.searchTransactions({ ...query, cursor: cursors.at(-1) }, controller.signal);
      if (controller.signal.aborted) return;
      showPage(page);
    } catch (error) {
      if (controller.signal.aborted) return;
      // A search text the API refuses is the box's problem: the results of the last search stay.
      const textIssue = error instanceof ApiError && error.status === 400 ? error.issues.find(({ path }) => path === 'query.q') : undefined;
      if (textIssue !== undefined) {
        showError('q', textIssue.message);
        return;
      }
      const message = error instanceof ApiError ? error.message : 'The server could not be reached. Try again in a moment.';
      status.textContent = 'The search failed.';
      replaceChildren(results, el('p', { class: 'error', role: 'alert' }, message));
    } finally {
      if (inFlight === controller) view.removeAttribute('aria-busy');
    }
  };

  form.addEventListener('input', (event) => {
    window.clearTimeout(timer);
    // Typing waits for a pause; a picked option or date searches at once.
    const typing = event.target instanceof HTMLInputElement && ['search', 'text', ''].includes(event.target.getAttribute('type') ?? '');
    if (typing) timer = window.setTimeout(() => void search(true), TYPING_PAUSE_MS);
    else void search(true);
  });
  // Clears to empty rather than to the values the page was opened with, as a reset would.
  form.querySelector('#clear-filters')?.addEventListener('click', () => {
    for (const name of FIELDS) {
      const control = field(name);
      if (control !== null && name !== 'q') control.value = '';
    }
    sort = '-requestedAt';
    void search(true);
  });
  // The page the URL names, which Back from a transaction returns to.
  void search(false);

  const searchBox = field('q') as HTMLInputElement;
  if (initial.toString() === '') searchBox.focus();
  return () => {
    window.clearTimeout(timer);
    inFlight?.abort();
  };
};
