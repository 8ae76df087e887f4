import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createWriteClient } from '../../src/demo/writeClient.js';
import { closeTestPage, launchChromium, screenshotFile, signedInPage } from './chromium.js';
import { startFolioInProcess, type RunningFolio } from '../fixtures/inProcessFolio.js';

/** Polls `check` until it holds (the UI answers as you type, so its rows change a moment later). */
const until = async <T>(what: string, read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 5_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

interface Row {
  reference: string;
  amount: string;
  status: string;
}

const rowsOf = (page: Page): Promise<Row[]> =>
  page.locator('table.transactions tbody tr').evaluateAll((rows) =>
    rows.map((row) => ({
      reference: row.querySelector('td.reference')?.textContent ?? '',
      amount: row.querySelector('td.amount')?.textContent ?? '',
      status: row.querySelector('.badge')?.textContent ?? '',
    })),
  );

describe('transaction history UI in Chromium', function () {
  this.timeout(60_000);
  let folio: RunningFolio;
  let browser: Browser;
  let page: Page;
  const accounts: Record<string, string> = {};
  /** Requests the pages made to anywhere but Folio, and errors they logged. */
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    browser = await launchChromium();
    folio = await startFolioInProcess('folio-ui-');
    const client = createWriteClient(folio.baseUrl, folio.adminKey);
    const open = async (name: string, currency: string, kind: 'customer' | 'merchant') => {
      accounts[name] = (await client.openAccount(`owner-${name}`, currency, kind)).id;
    };
    await open('alice', 'EUR', 'customer');
    await open('garden', 'EUR', 'merchant');
    await open('landlord', 'EUR', 'customer');
    await open('haruto', 'JPY', 'customer');
    await open('teahouse', 'JPY', 'merchant');
    await open('fatma', 'OMR', 'customer');
    await open('souq', 'OMR', 'merchant');
    await client.deposit(accounts.alice!, 500_000n, 'EUR', 'SALARY Northwind Traders November');
    await client.deposit(accounts.haruto!, 300_000n, 'JPY', 'SALARY Helios Energy November');
    await client.deposit(accounts.fatma!, 900_000n, 'OMR', 'WIRE 77 Muscat');
    const transfer = (from: string, to: string, amount: bigint, currency: string, reference: string, description: string) =>
      client.transfer({
        fromAccountId: accounts[from]!,
        toAccountId: accounts[to]!,
        amount,
        currency,
        reference,
        description,
        metadata: { channel: 'web', orderId: reference },
      });
    await transfer('alice', 'garden', 12_999n, 'EUR', 'INV-2026-0042', 'Garden chairs, set of four');
    await transfer('alice', 'garden', 1_250n, 'EUR', 'SO-1001', 'Seeds and compost');
    await transfer('alice', 'landlord', 85_000n, 'EUR', 'RENT-2026-11', 'Rent November, flat 3B');
    await transfer('alice', 'garden', 7_500n, 'EUR', 'SO-1002', 'Hedge trimmer');
    await transfer('haruto', 'teahouse', 1_050n, 'JPY', 'TS-7781', 'Matcha set');
    await transfer('fatma', 'souq', 12_345n, 'OMR', 'SOUQ-55', 'Frankincense gift box');
    await client.freeze(accounts.garden!, 'compliance review');
    const last = await transfer('alice', 'garden', 4_200n, 'EUR', 'SO-1003', 'Parasol');
    expect(last.status).to.equal('failed');
    expect(await folio.system.projections.waitFor(BigInt(last.position), 10_000), 'read models caught up').to.equal(true);
  });

  beforeEach(async () => {
    page = await signedInPage(browser, folio.adminKey, { viewport: { width: 1280, height: 900 } });
    page.on('request', (request) => {
      if (!request.url().startsWith(folio.baseUrl)) foreignRequests.push(request.url());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  });

  afterEach(async function () {
    await closeTestPage(page, this.currentTest);
  });

  after(async () => {
    await browser?.close();
    await folio?.stop();
  });

  const search = () => page.getByRole('searchbox', { name: 'Search transactions' });

  it('finds a transaction by its reference as you type', async () => {
    await page.goto(folio.baseUrl);
    await until('first rows', () => rowsOf(page), (rows) => rows.length === 10);
    await search().pressSequentially('INV-2026-0042');
    // Each pause in the typing may show the results of a prefix first; the whole reference's search starts last.
    await until('the search for the whole reference', async () => page.url(), (url) => url.endsWith('#/?q=INV-2026-0042'));
    await until('its answer', () => page.locator('#view').getAttribute('aria-busy'), (busy) => busy === null);
    const rows = await rowsOf(page);
    expect(rows).to.deep.equal([{ reference: 'INV-2026-0042', amount: '129.99 EUR', status: 'Completed' }]);
    await page.screenshot({ path: screenshotFile('search-by-reference') });
  });

  it('formats JPY without decimals and OMR with three', async () => {
    await page.goto(`${folio.baseUrl}/#/?q=TS-7781`);
    expect((await until('JPY row', () => rowsOf(page), (rows) => rows.length === 1))[0]!.amount).to.equal('1,050 JPY');
    await search().fill('SOUQ-55');
    expect((await until('OMR row', () => rowsOf(page), (rows) => rows[0]?.reference === 'SOUQ-55'))[0]!.amount).to.equal('12.345 OMR');
  });

  it('filters by an amount range in the chosen currency, both bounds inclusive', async () => {
    await page.goto(folio.baseUrl);
    await until('first rows', () => rowsOf(page), (rows) => rows.length > 0);
    await page.getByLabel('Currency').selectOption('EUR');
    await page.getByLabel('Status').selectOption('completed');
    await page.getByLabel(/^Amount from/).fill('75');
    await page.getByLabel(/^Amount to/).fill('850.00');
    const rows = await until('rows in the range', () => rowsOf(page), (rows) => rows.length === 3);
    expect(rows.map((row) => row.amount)).to.have.members(['129.99 EUR', '850.00 EUR', '75.00 EUR']);
    expect(await page.getByLabel(/^Amount from/).getAttribute('aria-invalid')).to.equal('false');
    await page.getByRole('button', { name: /Amount/ }).click();
    await until('sorted by amount, largest first', () => rowsOf(page), (rows) => rows.map((row) => row.amount).join() === '850.00 EUR,129.99 EUR,75.00 EUR');
    await page.screenshot({ path: screenshotFile('filter-by-amount-range') });
    await page.getByLabel(/^Amount to/).fill('8.505');
    await until('an amount error', () => page.locator('#max-error').textContent(), (text) => text === 'at most 2 decimals in this currency');
  });

  it('opens the detail view: postings on each side, lifecycle, references and account links', async () => {
    await page.goto(`${folio.baseUrl}/#/?q=INV-2026-0042`);
    await until('the row', () => rowsOf(page), (rows) => rows.length === 1);
    await page.getByRole('link', { name: 'INV-2026-0042' }).click();
    await page.getByRole('heading', { level: 1, name: /INV-2026-0042/ }).waitFor();
    expect(page.url()).to.match(/#\/transactions\/[0-9]+$/);
    const postings = await page.locator('table.postings tbody tr').evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent)),
    );
    expect(postings).to.deep.equal([
      ['First leg', accounts.alice, '129.99 EUR', ''],
      ['Second leg', accounts.garden, '', '129.99 EUR'],
    ]);
    expect(await page.locator('ol.timeline .timeline-state').allTextContents()).to.deep.equal(['Requested', 'Completed']);
    expect(await page.locator('section', { hasText: 'References' }).textContent()).to.contain('orderId').and.contain('INV-2026-0042');
    await page.screenshot({ path: screenshotFile('transaction-detail'), fullPage: true });
    await page.getByRole('link', { name: '← Back to search' }).click();
    await until('back on the search', () => rowsOf(page), (rows) => rows.length === 1 && rows[0]!.reference === 'INV-2026-0042');
  });

  it('shows a failed transfer with its reason and the reversal of its first leg', async () => {
    await page.goto(`${folio.baseUrl}/#/?q=SO-1003`);
    await until('the row', () => rowsOf(page), (rows) => rows.length === 1 && rows[0]!.status === 'Failed');
    await page.getByRole('link', { name: 'SO-1003' }).press('Enter');
    await page.locator('table.postings').waitFor();
    expect(await page.locator('table.postings tbody td:first-child').allTextContents()).to.deep.equal(['First leg', 'Reversal']);
    expect(await page.locator('ol.timeline').textContent()).to.contain('Failed').and.contain('account-frozen');
  });

  it("renders an account's balance chart and its history", async () => {
    await page.goto(`${folio.baseUrl}/#/transactions/${(await rowsIdOf(folio, 'RENT-2026-11'))}`);
    await page.getByRole('link', { name: accounts.alice! }).first().click();
    await page.getByRole('heading', { level: 1, name: `Account ${accounts.alice}` }).waitFor();
    expect(await page.locator('.balance-fact.primary dd').textContent()).to.equal('3,932.51 EUR');
    const chart = page.getByRole('img', { name: 'Balance over time, EUR' });
    await chart.waitFor();
    const line = await chart.locator('path.chart-line').getAttribute('d');
    // Seven postings (the deposit, four debits, the failed transfer's debit and its reversal): six steps between them.
    expect(line?.match(/V/g)?.length).to.equal(6);
    expect(await chart.locator('desc').textContent()).to.contain('7 postings').and.contain('now 3,932.51 EUR').and.contain('highest 5,000.00 EUR');
    expect(await rowsOf(page)).to.have.length(6);
    await page.screenshot({ path: screenshotFile('account-chart'), fullPage: true });
  });

  it('works from the keyboard: / focuses the search, arrow keys move between results', async () => {
    await page.goto(`${folio.baseUrl}/#/transactions/${(await rowsIdOf(folio, 'SO-1001'))}`);
    await page.locator('table.postings').waitFor();
    await page.getByRole('link', { name: '← Back to search' }).click();
    await until('rows', () => rowsOf(page), (rows) => rows.length > 3);
    await page.locator('body').click({ position: { x: 5, y: 200 } });
    await page.keyboard.press('/');
    expect(await page.locator(':focus').getAttribute('id')).to.equal('q');
    await page.locator('a.row-link').first().focus();
    await page.keyboard.press('ArrowDown');
    const second = await page.locator('a.row-link').nth(1).textContent();
    expect(await page.locator(':focus').textContent()).to.equal(second);
  });

  it('fits a phone screen: no sideways scrolling on any page, rows as labelled cards', async () => {
    const phone = await signedInPage(browser, folio.adminKey, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      await phone.goto(folio.baseUrl);
      await until('rows', () => rowsOf(phone), (rows) => rows.length > 0);
      const overflow = () => phone.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth);
      expect(await overflow(), 'pixels of sideways scrolling on the search').to.equal(0);
      await phone.screenshot({ path: screenshotFile('phone-search'), fullPage: true });
      await phone.goto(`${folio.baseUrl}/#/transactions/${await rowsIdOf(folio, 'RENT-2026-11')}`);
      await phone.locator('table.postings').waitFor();
      expect(await overflow(), 'pixels of sideways scrolling on a transaction').to.equal(0);
      await phone.screenshot({ path: screenshotFile('phone-transaction'), fullPage: true });
      await phone.goto(`${folio.baseUrl}/#/accounts/${accounts.alice}`);
      await phone.locator('svg.chart').waitFor();
      expect(await overflow(), 'pixels of sideways scrolling on an account').to.equal(0);
    } finally {
      await phone.close();
    }
  });

  it('asked nothing of any other origin, and logged no errors (the content security policy included)', () => {
    expect(foreignRequests).to.deep.equal([]);
    expect(pageErrors).to.deep.equal([]);
  });
});

describe('transaction history UI in Chromium, on an empty ledger', function () {
  this.timeout(30_000);

  it('asks for a key, refuses a wrong one, then offers the demo instead of an empty table', async () => {
    const browser = await launchChromium();
    const folio = await startFolioInProcess('folio-ui-empty-');
    try {
      const page = await browser.newPage();
      await page.goto(folio.baseUrl);
      await page.getByLabel('API key').fill('folio_0000000000000000_not-a-key');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await until('the refusal', () => page.locator('#sign-in-error').textContent(), (text) => text === 'That key was not accepted.');
      await page.getByLabel('API key').fill(folio.adminKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('The ledger is empty').waitFor();
      expect(await page.evaluate("sessionStorage.getItem('folio.apiKey')")).to.equal(folio.adminKey);
      expect(await page.locator('.results code').textContent()).to.equal('npm run demo');
      expect(await page.getByRole('status').textContent()).to.equal('No transactions yet.');
      await page.screenshot({ path: screenshotFile('empty-ledger') });
    } finally {
      await browser.close();
      await folio.stop();
    }
  });
});

/** A transaction's id by its reference, over the read API. */
const rowsIdOf = async (folio: RunningFolio, reference: string): Promise<string> => {
  const response = await fetch(`${folio.baseUrl}/v1/transactions?q=${encodeURIComponent(reference)}`, { headers: folio.auth });
  const { items } = (await response.json()) as { items: { id: string; reference: string }[] };
  const found = items.find((item) => item.reference === reference);
  if (found === undefined) throw new Error(`no transaction with reference ${reference}`);
  return found.id;
};
