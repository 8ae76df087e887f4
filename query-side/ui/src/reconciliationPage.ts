/**
 * The reconciliation dashboard (`#/reconciliation?code=&status=&provider=&cursor=`): per provider and
 * currency what matched, what is open by class and the ledger-vs-provider delta; below, the
 * discrepancies the filters select, each with its explanation, suggested action, evidence and
 * the workflow steps taken on it (who, when and why).
 */
import { api, type Discrepancy, type ReconciliationSummary, type WorkflowEntry } from './api.js';
import { el, replaceChildren } from './dom.js';
import { formatTime } from './format.js';
import { money } from './money.js';
import { showLoadError } from './pageErrors.js';
import { transactionHref } from './routes.js';

const CODES = [
  'PROVIDER_UNMATCHED', 'INTERNAL_UNMATCHED', 'DUPLICATE_PROVIDER_ROW', 'PROVIDER_ROW_RESTATED', 'DUPLICATE_CHARGE',
  'AMOUNT_MISMATCH', 'UNIT_EXPONENT_MISMATCH', 'CURRENCY_MISMATCH', 'NET_INCONSISTENT', 'FEE_MISMATCH', 'STATUS_SUPERSEDED',
  'STALE_PENDING', 'PAYOUT_LINES_MISMATCH', 'STATEMENT_GAP', 'STATEMENT_BALANCE_BREAK', 'AMBIGUOUS_MATCH',
];
const STATUSES = ['open', 'resolved', 'cleared'];
const PAGE_SIZE = 100;

const summaryTable = (items: readonly ReconciliationSummary[]) =>
  items.length === 0
    ? el('p', { class: 'empty' }, 'Nothing reconciled yet: import a provider statement.')
    : el(
        'table',
        { class: 'reconciliation-summary' },
        el('thead', {}, el('tr', {}, ...['Provider', 'Currency', 'Payments', 'Matched', 'Awaiting settlement', 'Ledger', 'Provider', 'Delta', 'Open'].map((title) => el('th', { scope: 'col' }, title)))),
        el(
          'tbody',
          {},
          ...items.map((summary) =>
            el(
              'tr',
              {},
              el('td', {}, summary.provider),
              el('td', {}, summary.currency),
              el('td', { class: 'number' }, String(summary.payments)),
              el('td', { class: 'number' }, String(summary.matched)),
              el('td', { class: 'number' }, String(summary.awaitingSettlement)),
              el('td', { class: 'amount' }, money(summary.ledgerTotal, summary.currency)),
              el('td', { class: 'amount' }, money(summary.providerTotal, summary.currency)),
              el('td', { class: `amount delta${summary.delta === '0' ? '' : ' bad'}` }, money(summary.delta, summary.currency)),
              el(
                'td',
                { class: 'open' },
                summary.openTotal === 0
                  ? 'none'
                  : Object.entries(summary.open)
                      .map(([code, count]) => `${code} ${count}`)
                      .join(', '),
              ),
            ),
          ),
        ),
      );

const evidenceList = (discrepancy: Discrepancy) =>
  el(
    'ul',
    { class: 'evidence' },
    ...discrepancy.evidence.map((evidence) =>
      el(
        'li',
        {},
        evidence.kind === 'ledger-event'
          ? `Ledger: ${evidence.type} on ${evidence.stream} (position ${evidence.position})`
          : evidence.kind === 'statement-row'
            ? `Statement row: line ${evidence.line} of file ${evidence.fileHash?.slice(0, 12)}… (position ${evidence.position})`
            : `Statement ${evidence.statementId} of file ${evidence.fileHash?.slice(0, 12)}… (position ${evidence.position})`,
      ),
    ),
  );

const workflowStep = (entry: WorkflowEntry): string =>
  entry.action === 'assigned'
    ? `assigned to ${entry.assignee ?? ''}`
    : entry.action === 'resolved'
      ? `resolved (${entry.resolution ?? ''})`
      : entry.action;

/** The steps people took, their reasons as they typed them: text, never markup. */
const workflowList = (discrepancy: Discrepancy) =>
  discrepancy.history.length === 0
    ? null
    : el(
        'ol',
        { class: 'workflow', 'aria-label': 'Workflow' },
        ...discrepancy.history.map((entry) =>
          el(
            'li',
            {},
            el('time', { datetime: entry.at }, formatTime(entry.at)),
            ` ${workflowStep(entry)} by ${entry.by}: ${entry.reason}`,
            entry.journalId === undefined ? null : el('span', {}, ' · ', el('a', { href: transactionHref(entry.journalId) }, 'correcting journal')),
          ),
        ),
      );

const discrepancyItem = (discrepancy: Discrepancy) =>
  el(
    'li',
    { class: `discrepancy ${discrepancy.status}`, 'data-code': discrepancy.code },
    el('details', {},
      el('summary', {},
        el('span', { class: 'badge' }, discrepancy.code),
        ' ',
        el('span', { class: 'status' }, `${discrepancy.status}${discrepancy.stage === 'new' ? '' : ` · ${discrepancy.stage}`}`),
        ' ',
        el('span', { class: 'explanation' }, discrepancy.explanation),
      ),
      el('p', { class: 'action' }, `Suggested action: ${discrepancy.suggestedAction}`),
      el('p', { class: 'found' }, `Found ${formatTime(discrepancy.foundAt)} by rules v${discrepancy.rulesVersion}; provider ${discrepancy.provider}${discrepancy.assignee === null ? '' : `; assigned to ${discrepancy.assignee}`}`),
      evidenceList(discrepancy),
      workflowList(discrepancy),
    ),
  );

const select = (name: string, label: string, options: readonly string[], current: string | null) =>
  el('label', {}, `${label} `,
    el('select', { name }, el('option', { value: '' }, 'any'), ...options.map((option) => el('option', { value: option, selected: option === current }, option))),
  );

export const renderReconciliationPage = async (view: HTMLElement, query: URLSearchParams): Promise<void> => {
  document.title = 'Reconciliation · Folio';
  const filters = { code: query.get('code'), status: query.get('status') ?? 'open', provider: query.get('provider') };
  let summary;
  let page;
  try {
    [summary, page] = await Promise.all([
      api.reconciliationSummary(),
      api.discrepancies({
        code: filters.code ?? undefined,
        status: filters.status || undefined,
        provider: filters.provider ?? undefined,
        cursor: query.get('cursor') ?? undefined,
        limit: String(PAGE_SIZE),
      }),
    ]);
  } catch (error) {
    showLoadError(view, 'Reconciliation', error);
    return;
  }
  const form = el('form', { class: 'filters', role: 'search', 'aria-label': 'Filter discrepancies' },
    select('code', 'Class', CODES, filters.code),
    select('status', 'Status', STATUSES, filters.status),
    el('label', {}, 'Provider ', el('input', { name: 'provider', value: filters.provider ?? '', size: 10, pattern: '[a-z][a-z0-9_]*' })),
    el('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (typeof value === 'string' && value !== '') next.set(name, value);
    if (!next.has('status')) next.set('status', '');
    location.hash = `#/reconciliation?${next.toString()}`;
  });
  // Each page is an address of its own, so Back returns to the one before.
  const pageHref = (cursor: string | null) => {
    const next = new URLSearchParams(query);
    if (cursor === null) next.delete('cursor');
    else next.set('cursor', cursor);
    return `#/reconciliation?${next.toString()}`;
  };
  replaceChildren(
    view,
    el('h1', { tabindex: '-1' }, 'Reconciliation'),
    summaryTable(summary.items),
    el('h2', {}, 'Discrepancies'),
    form,
    page.items.length === 0
      ? el('p', { class: 'empty' }, 'No discrepancy matches these filters.')
      : el('ul', { class: 'discrepancies' }, ...page.items.map(discrepancyItem)),
    page.nextCursor === null && !query.has('cursor')
      ? null
      : el(
          'p',
          { class: 'more' },
          `${PAGE_SIZE} at a time, oldest first. `,
          query.has('cursor') ? el('a', { href: pageHref(null) }, `← First ${PAGE_SIZE}`) : null,
          ' ',
          page.nextCursor === null ? null : el('a', { href: pageHref(page.nextCursor) }, `Next ${PAGE_SIZE} →`),
        ),
  );
  view.querySelector('h1')?.focus();
};
