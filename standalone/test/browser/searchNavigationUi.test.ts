import { expect } from 'chai';
import type { Browser, Page, Route } from 'playwright-core';
import { createWriteClient } from '../../src/demo/writeClient.js';
import { closeTestPage, launchChromium, openTestPage } from './chromium.js';
import { startFolioInProcess, type RunningFolio } from '../fixtures/inProcessFolio.js';

const until = async <T>(what: string, read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 5_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const referencesOf = (page: Page): Promise<string[]> => page.locator('table.transactions tbody td.reference').allTextContents();
const pageNumberOf = (page: Page) => page.locator('.pager .page-number').textContent();
const focused = (page: Page) => page.evaluate<string>("document.activeElement?.textContent?.trim() ?? ''");

/** 31 transactions on one account: a page of 25 and one of 6, as the search pages them. */
describe('transaction search in Chromium: pages, keyboard, refusals', function () {
  this.timeout(60_000);
  let folio: RunningFolio;
  let browser: Browser;
  let page: Page;
  let alice: string;
  const pageErrors: string[] = [];

  before(async () => {
    browser = await launchChromium();
    folio = await startFolioInProcess('folio-search-ui-');
    const client = createWriteClient(folio.baseUrl, folio.adminKey);
    alice = (await client.openAccount('owner-alice', 'EUR', 'customer')).id;
    const shop = (await client.openAccount('owner-shop', 'EUR', 'merchant')).id;
    let last = await client.deposit(alice, 1_000_000n, 'EUR', 'SALARY');
    for (let i = 1; i <= 30; i++) {
      const reference = `ORDER-${String(i).padStart(2, '0')}`;
      last = await client.transfer({ fromAccountId: alice, toAccountId: shop, amount: BigInt(i * 100), currency: 'EUR', reference, description: reference, metadata: {} });
    }
    expect(await folio.system.projections.waitFor(BigInt(last.position), 10_000), 'read models caught up').to.equal(true);
  });

  beforeEach(async () => {
    page = await openTestPage(browser, folio.adminKey, { width: 1280, height: 900 }, pageErrors);
  });

  afterEach(async function () {
    await closeTestPage(page, this.currentTest);
  });

  after(async () => {
    await browser?.close();
    await folio?.stop();
  });

  it('keeps the page in the URL: Back from a transaction, a reload and Previous all land where they should', async () => {
    await page.goto(`${folio.baseUrl}/#/?account=${alice}`);
    const firstPage = await until('page 1', () => referencesOf(page), (rows) => rows.length === 25);
    // A double click is one step forward, not two steps onto the same page.
    await page.getByRole('button', { name: 'Next page →' }).dblclick();
    const secondPage = await until('page 2', () => referencesOf(page), (rows) => rows.length === 6);
    expect(await pageNumberOf(page)).to.equal('Page 2');
    await page.getByRole('link', { name: secondPage[0]! }).click();
    await page.locator('table.postings').waitFor();
    await page.goBack();
    expect(await until('page 2 again', () => referencesOf(page), (rows) => rows.length > 0 && rows[0] !== 'ORDER-30')).to.deep.equal(secondPage);
    expect(await pageNumberOf(page)).to.equal('Page 2');
    await page.reload();
    expect(await until('page 2 after a reload', () => referencesOf(page), (rows) => rows.length > 0)).to.deep.equal(secondPage);
    await page.getByRole('button', { name: '← Previous page' }).click();
    expect(await until('page 1', () => referencesOf(page), (rows) => rows.length === 25)).to.deep.equal(firstPage);
    expect(await pageNumberOf(page)).to.equal('Page 1');
  });

  it('keeps the keyboard focus on the pager and on a sort header once the results change', async () => {
    await page.goto(`${folio.baseUrl}/#/?account=${alice}`);
    await until('page 1', () => referencesOf(page), (rows) => rows.length === 25);
    await page.getByRole('button', { name: 'Next page →' }).focus();
    await page.keyboard.press('Enter');
    await until('page 2', () => referencesOf(page), (rows) => rows.length === 6);
    // Next is disabled on the last page: the focus goes to its neighbour, not to the top of the document.
    expect(await focused(page)).to.equal('← Previous page');
    await page.keyboard.press('Enter');
    await until('page 1', () => referencesOf(page), (rows) => rows.length === 25);
    expect(await focused(page)).to.equal('Next page →');
    await page.getByRole('button', { name: /Amount/ }).focus();
    await page.keyboard.press('Enter');
    await until('largest first', () => referencesOf(page), (rows) => rows[0] === 'SALARY');
    expect(await page.evaluate<string | null>("document.activeElement?.getAttribute('data-sort')")).to.equal('amount');
  });

  it("moves the focus to the first older transaction an account's Load button brings", async () => {
    await page.goto(`${folio.baseUrl}/#/accounts/${alice}`);
    await until('the latest 25', () => referencesOf(page), (rows) => rows.length === 25);
    await page.getByRole('button', { name: 'Load older transactions' }).focus();
    await page.keyboard.press('Enter');
    await until('all 31', () => referencesOf(page), (rows) => rows.length === 31);
    expect(await focused(page)).to.equal('ORDER-05');
    await page.keyboard.press('ArrowDown');
    expect(await focused(page)).to.equal('ORDER-04');
  });

  it('says what is wrong with an amount or date range in the form, in the units typed', async () => {
    await page.goto(`${folio.baseUrl}/#/?account=${alice}`);
    await until('rows', () => referencesOf(page), (rows) => rows.length === 25);
    await page.getByLabel(/^Amount from/).fill('10.5');
    await until('minor units explained', () => page.locator('#min-error').textContent(), (text) => text === 'without a currency, amounts are in minor units: choose one to type decimals');
    await page.getByLabel('Currency').selectOption('EUR');
    await until('accepted in EUR', () => page.locator('#min-error').textContent(), (text) => text === '');
    await page.getByLabel(/^Amount to/).fill('9');
    await until('the range refused', () => page.locator('#max-error').textContent(), (text) => text === 'must not be below the amount from');
    await page.getByLabel(/^Amount to/).fill('');
    // Dates are UTC days, as every time shown is UTC: the labels say so, since a browser's date picker does not.
    expect(await page.locator('.filters label[for="from"], .filters label[for="to"]').allTextContents()).to.deep.equal(['Requested from (UTC)', 'Requested to (UTC)']);
    await page.getByLabel('Requested from').fill('2026-03-02');
    await page.getByLabel('Requested to').fill('2026-03-01');
    await until('the dates refused', () => page.locator('#to-error').textContent(), (text) => text === 'must not be before the date from');
    expect(await page.locator('.results .error').count(), 'no API refusal shown').to.equal(0);
  });

  it('says at the search box what the API refuses in the search text, keeping the results shown', async () => {
    await page.goto(`${folio.baseUrl}/#/?account=${alice}`);
    await until('rows', () => referencesOf(page), (rows) => rows.length === 25);
    const box = page.getByRole('searchbox', { name: 'Search transactions' });
    await box.fill('#');
    await until(
      'the text refused',
      () => page.locator('#q-error').textContent(),
      (text) => text === 'holds no letter or digit to search for: add a word or number, or leave it empty to search without text',
    );
    expect(await box.getAttribute('aria-invalid')).to.equal('true');
    expect(await page.locator('.results .error').count(), 'no failure in the results').to.equal(0);
    expect(await referencesOf(page)).to.have.length(25);
    await box.fill('ORDER-07');
    expect(await until('the search', () => referencesOf(page), (rows) => rows.length === 1)).to.deep.equal(['ORDER-07']);
    expect(await page.locator('#q-error').textContent()).to.equal('');
    expect(await box.getAttribute('aria-invalid')).to.equal('false');
  });

  it('shows the page asked for last, not a slower earlier one', async () => {
    await page.goto(`${folio.baseUrl}/#/?account=${alice}`);
    await until('rows', () => referencesOf(page), (rows) => rows.length === 25);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const answered = page.waitForResponse((response) => /\/v1\/transactions\/[0-9]+$/.test(response.url()));
    await page.route(/\/v1\/transactions\/[0-9]+$/, async (route: Route) => {
      await held;
      await route.continue();
    });
    await page.locator('a.row-link').first().click();
    await until('the transaction is asked for', async () => page.url(), (url) => url.includes('#/transactions/'));
    await page.goBack();
    await until('the search again', () => referencesOf(page), (rows) => rows.length === 25);
    release();
    await answered;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await page.locator('h1').textContent()).to.equal('Transactions');
    expect(await referencesOf(page)).to.have.length(25);
  });

  it('asks to sign in again when the key stops working mid-session, then returns to the search', async () => {
    await page.goto(`${folio.baseUrl}/#/?account=${alice}`);
    await until('rows', () => referencesOf(page), (rows) => rows.length === 25);
    await page.evaluate("sessionStorage.setItem('folio.apiKey', 'folio_0000000000000000_revoked')");
    await page.getByRole('searchbox', { name: 'Search transactions' }).fill('ORDER-07');
    await until('the notice', () => page.evaluate<string | null>("document.getElementById('sign-in-error')?.textContent ?? null"), (text) => text === 'Your key is no longer accepted; sign in again.');
    await page.getByLabel('API key').fill(folio.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await until('the search', () => referencesOf(page), (rows) => rows.length === 1)).to.deep.equal(['ORDER-07']);
  });

  it('logged no errors (the content security policy included)', () => {
    expect(pageErrors).to.deep.equal([]);
  });
});
