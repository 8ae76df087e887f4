/**
 * The auditor's as-of view: the trial balance at a recorded point (a global position or a time),
 * and optionally one account's figures and latest entries there, folded from the log by the audit
 * API. The form's fields live in the URL hash, so a view can be linked to.
 */
import { api, ApiError, type AccountAtPoint, type AuditQuery, type TrialBalance } from './api.js';
import { el, replaceChildren } from './dom.js';
import { formatTime } from './format.js';
import { money } from './money.js';
import { accountLink, auditHref, transactionHref } from './routes.js';

const FIELDS = ['account', 'position', 'asOf', 'effectiveAt'] as const;
type Field = (typeof FIELDS)[number];

const field = (id: Field, label: string, hint: string, value: string, attributes: Record<string, string> = {}) =>
  el(
    'div',
    { class: 'field' },
    el('label', { for: `audit-${id}` }, label),
    el('input', { id: `audit-${id}`, name: id, value, autocomplete: 'off', 'aria-describedby': `audit-${id}-hint`, ...attributes }),
    el('span', { id: `audit-${id}-hint`, class: 'hint' }, hint),
  );

const term = (name: string, ...value: (Node | string)[]) => [el('dt', {}, name), el('dd', {}, ...value)];

const describePoint = (query: AuditQuery): string => {
  const parts = [
    query.position === undefined ? null : `position ${query.position}`,
    query.asOf === undefined ? null : `recorded by ${query.asOf}`,
    query.effectiveAt === undefined ? null : `effective by ${query.effectiveAt}`,
  ].filter((part) => part !== null);
  return parts.length === 0 ? 'now' : parts.join(', ');
};

const trialBalanceSection = (trial: TrialBalance) =>
  el(
    'section',
    { 'aria-labelledby': 'trial-heading', class: 'trial-balance' },
    el('h2', { id: 'trial-heading' }, 'Trial balance'),
    el(
      'p',
      {},
      el('span', { class: `badge ${trial.balanced ? 'badge-completed' : 'badge-failed'}` }, trial.balanced ? 'Books balance' : 'Books do not balance'),
      ` · ${trial.eventsFolded} events folded`,
      trial.position === null ? ' · the books were empty at this point' : ` · up to position ${trial.position}`,
    ),
    trial.currencies.length === 0
      ? el('p', { class: 'empty' }, 'No accounts at this point.')
      : el(
          'table',
          { class: 'trial-currencies' },
          el('caption', {}, 'Per currency: Σ balances + in transit = 0'),
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', { scope: 'col' }, 'Currency'),
              el('th', { scope: 'col', class: 'numeric' }, 'Accounts'),
              el('th', { scope: 'col', class: 'numeric' }, 'Σ balances'),
              el('th', { scope: 'col', class: 'numeric' }, 'In transit'),
              el('th', { scope: 'col', class: 'numeric' }, 'Difference'),
            ),
          ),
          el(
            'tbody',
            {},
            ...trial.currencies.map((entry) =>
              el(
                'tr',
                {},
                el('th', { scope: 'row' }, entry.currency),
                el('td', { class: 'numeric' }, String(entry.accounts)),
                el('td', { class: 'numeric balances-sum' }, money(entry.balances, entry.currency)),
                el('td', { class: 'numeric in-transit' }, money(entry.inTransit, entry.currency)),
                el(
                  'td',
                  { class: `numeric difference ${entry.difference === '0' ? '' : 'error'}` },
                  money(entry.difference, entry.currency),
                  entry.difference === '0' ? ' ✓' : ' ✗',
                ),
              ),
            ),
          ),
        ),
    trial.violations.length === 0
      ? null
      : el('ul', { class: 'error', role: 'note', 'aria-label': 'Violations' }, ...trial.violations.map((violation) => el('li', {}, violation))),
    el('h3', {}, 'Movements in flight'),
    trial.inFlight.length === 0
      ? el('p', { class: 'empty in-flight-none' }, 'No movement was in flight at this point.')
      : el(
          'table',
          { class: 'in-flight' },
          el('caption', { class: 'visually-hidden' }, 'Movements in flight'),
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', { scope: 'col' }, 'Kind'),
              el('th', { scope: 'col' }, 'Id'),
              el('th', { scope: 'col', class: 'numeric' }, 'Started at position'),
              el('th', { scope: 'col', class: 'numeric' }, 'In transit'),
            ),
          ),
          el(
            'tbody',
            {},
            ...trial.inFlight.map((movement) =>
              el(
                'tr',
                {},
                el('td', {}, movement.kind),
                el('td', {}, el('a', { href: transactionHref(movement.id), class: 'id' }, movement.id)),
                el('td', { class: 'numeric' }, movement.startedAt),
                el('td', { class: 'numeric' }, money(movement.inTransit, movement.currency)),
              ),
            ),
          ),
        ),
  );

const accountSection = (account: AccountAtPoint) =>
  el(
    'section',
    { 'aria-labelledby': 'account-heading', class: 'account-at-point' },
    el('h2', { id: 'account-heading' }, 'Account ', accountLink(account.accountId)),
    el(
      'dl',
      { class: 'balances' },
      el('div', { class: 'balance-fact primary' }, el('dt', {}, 'Balance'), el('dd', { class: 'audit-balance' }, money(account.balance, account.currency))),
      el('div', { class: 'balance-fact' }, el('dt', {}, 'Credits'), el('dd', {}, money(account.credits, account.currency))),
      el('div', { class: 'balance-fact' }, el('dt', {}, 'Debits'), el('dd', {}, money(account.debits, account.currency))),
      el('div', { class: 'balance-fact' }, el('dt', {}, 'Overdraft limit'), el('dd', {}, money(account.overdraftLimit, account.currency))),
    ),
    el(
      'dl',
      { class: 'facts' },
      ...term('Kind', account.kind),
      ...term('Postings', String(account.postings)),
      ...term('Last event', `revision ${account.revision} at position ${account.position}`),
    ),
    el('h3', {}, 'Latest entries'),
    account.entries.length === 0
      ? el('p', { class: 'empty' }, 'No entries at this point.')
      : el(
          'div',
          { class: 'results' },
          el(
            'table',
            { class: 'audit-entries' },
            el('caption', { class: 'visually-hidden' }, `Latest entries of account ${account.accountId}`),
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                el('th', { scope: 'col', class: 'numeric' }, 'Position'),
                el('th', { scope: 'col' }, 'Recorded'),
                el('th', { scope: 'col' }, 'Effective'),
                el('th', { scope: 'col' }, 'Journal'),
                el('th', { scope: 'col', class: 'numeric' }, 'Amount'),
                el('th', { scope: 'col', class: 'numeric' }, 'Balance after'),
              ),
            ),
            el(
              'tbody',
              {},
              ...account.entries.map((entry) =>
                el(
                  'tr',
                  {},
                  el('td', { class: 'numeric' }, entry.position),
                  el('td', {}, formatTime(entry.recordedAt)),
                  el('td', {}, formatTime(entry.occurredAt)),
                  el('td', {}, el('a', { href: transactionHref(entry.journal.id) }, `${entry.journal.kind} ${entry.journal.leg}`)),
                  el(
                    'td',
                    { class: `numeric amount ${entry.side === 'debit' ? 'outgoing' : ''}` },
                    `${entry.side === 'debit' ? '−' : '+'}${money(entry.amount, entry.currency)}`,
                  ),
                  el('td', { class: 'numeric balance-after' }, money(entry.balanceAfter, entry.currency)),
                ),
              ),
            ),
          ),
        ),
  );

const queryOf = (parameters: URLSearchParams): { account: string | undefined; query: AuditQuery } => {
  const value = (name: Field) => {
    const text = parameters.get(name)?.trim();
    return text === undefined || text === '' ? undefined : text;
  };
  const position = value('position');
  const asOf = value('asOf');
  const effectiveAt = value('effectiveAt');
  return {
    account: value('account'),
    query: { ...(position === undefined ? {} : { position }), ...(asOf === undefined ? {} : { asOf }), ...(effectiveAt === undefined ? {} : { effectiveAt }) },
  };
};

export const renderAuditPage = async (view: HTMLElement, parameters: URLSearchParams): Promise<void> => {
  document.title = 'As of · Folio';
  const form = el(
    'form',
    { class: 'search-form audit-form', 'aria-label': 'Point in time' },
    el(
      'div',
      { class: 'filters' },
      field('account', 'Account id (optional)', 'Leave empty for the trial balance alone.', parameters.get('account') ?? '', { inputmode: 'numeric' }),
      field('position', 'Global position', 'The position a write answered, such as 42.', parameters.get('position') ?? '', { inputmode: 'numeric' }),
      field('asOf', 'Or recorded by (time)', 'Such as 2026-05-01 or 2026-05-01T12:00:00Z.', parameters.get('asOf') ?? ''),
      field('effectiveAt', 'Effective by (business time, optional)', 'Counts only postings that took effect by then.', parameters.get('effectiveAt') ?? ''),
      el('div', { class: 'field field-actions' }, el('button', { type: 'submit' }, 'Show')),
    ),
  );
  const results = el('div', { class: 'audit-results', 'aria-live': 'polite' });
  replaceChildren(view, el('h1', { tabindex: '-1' }, 'As of'), form, results);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of FIELDS) {
      const text = (form.elements.namedItem(name) as HTMLInputElement).value.trim();
      if (text !== '') next.set(name, text);
    }
    const hash = auditHref(next);
    // The same hash fires no hashchange: show the point again in place.
    if (hash === location.hash) void show(next);
    else location.hash = hash;
  });

  const show = async (current: URLSearchParams) => {
    const { account, query } = queryOf(current);
    replaceChildren(results, el('p', { class: 'loading' }, 'Folding the books…'));
    const [trial, accountAtPoint] = await Promise.allSettled([
      api.trialBalance({ ...(query.position === undefined ? {} : { position: query.position }), ...(query.asOf === undefined ? {} : { asOf: query.asOf }) }),
      account === undefined ? Promise.resolve(undefined) : api.accountAsOf(account, query),
    ]);
    const failure = (outcome: PromiseSettledResult<unknown>, what: string) =>
      outcome.status === 'fulfilled'
        ? null
        : el(
            'p',
            { class: 'error', role: 'alert' },
            `${what}: `,
            outcome.reason instanceof ApiError ? outcome.reason.message : 'the server could not be reached. Try again in a moment.',
          );
    replaceChildren(
      results,
      el('p', { class: 'account-meta' }, `The books as of ${describePoint(query)}.`),
      failure(accountAtPoint, `Account ${account ?? ''}`),
      accountAtPoint.status === 'fulfilled' && accountAtPoint.value !== undefined ? accountSection(accountAtPoint.value) : null,
      failure(trial, 'Trial balance'),
      trial.status === 'fulfilled' ? trialBalanceSection(trial.value) : null,
    );
  };

  await show(parameters);
  view.querySelector('h1')?.focus();
};
