import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createWriteClient } from '../../src/demo/writeClient.js';
import { closeTestPage, launchChromium, openTestPage, screenshotFile } from './chromium.js';
import { startFolioInProcess, type RunningFolio } from '../fixtures/inProcessFolio.js';

describe('as-of view in Chromium', function () {
  this.timeout(60_000);
  let folio: RunningFolio;
  let browser: Browser;
  let page: Page;
  let alice: string;
  let afterDeposit: string;
  const pageErrors: string[] = [];

  before(async () => {
    browser = await launchChromium();
    folio = await startFolioInProcess('folio-audit-ui-');
    const client = createWriteClient(folio.baseUrl, folio.adminKey);
    alice = (await client.openAccount('owner-alice', 'EUR', 'customer')).id;
    const bob = (await client.openAccount('owner-bob', 'EUR', 'customer')).id;
    const haruto = (await client.openAccount('owner-haruto', 'JPY', 'customer')).id;
    afterDeposit = (await client.deposit(alice, 100_000n, 'EUR', 'SALARY November')).position;
    await client.deposit(haruto, 5_000n, 'JPY', 'WIRE 12');
    const transfer = await client.transfer({ fromAccountId: alice, toAccountId: bob, amount: 30_050n, currency: 'EUR', reference: 'RENT-11', description: 'Rent November', metadata: {} });
    expect(transfer.status).to.equal('completed');
    expect(await folio.system.projections.waitFor(BigInt(transfer.position), 10_000), 'read models caught up').to.equal(true);
  });

  beforeEach(async () => {
    page = await openTestPage(browser, folio.adminKey, { width: 1280, height: 1000 }, pageErrors);
  });

  afterEach(async function () {
    await closeTestPage(page, this.currentTest);
  });

  after(async () => {
    await browser?.close();
    await folio?.stop();
    expect(pageErrors, 'errors the pages logged').to.deep.equal([]);
  });

  it("shows an account's balance and entries at the position after a deposit, not now, and a balanced trial balance", async () => {
    await page.goto(`${folio.baseUrl}/#/audit?account=${alice}&position=${afterDeposit}`);
    await page.locator('.audit-balance').waitFor();
    expect(await page.locator('.audit-balance').textContent()).to.equal('1,000.00 EUR');
    expect(await page.locator('table.audit-entries tbody tr .balance-after').allTextContents()).to.deep.equal(['1,000.00 EUR']);
    expect(await page.getByLabel('Global position').inputValue()).to.equal(afterDeposit);
    expect(await page.getByLabel('Account id (optional)').inputValue()).to.equal(alice);
    const rows = await page.locator('table.trial-currencies tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.querySelector('th')?.textContent, tr.querySelector('.difference')?.textContent]),
    );
    expect(rows).to.deep.equal([
      ['EUR', '0.00 EUR ✓'],
      ['JPY', '0 JPY ✓'],
    ]);
    expect(await page.locator('.trial-balance .badge').textContent()).to.equal('Books balance');
    await page.screenshot({ path: screenshotFile('audit-as-of'), fullPage: true });

    // The same form, now without a position: the books as they stand.
    await page.getByLabel('Global position').fill('');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(new RegExp(`#/audit\\?account=${alice}$`));
    await page.locator('.audit-balance', { hasText: '699.50 EUR' }).waitFor();
    const now = await page.locator('table.trial-currencies tbody tr .difference').allTextContents();
    expect(now).to.deep.equal(['0.00 EUR ✓', '0 JPY ✓']);
  });

  it('leads from the account page to the view of that account', async () => {
    await page.goto(`${folio.baseUrl}/#/accounts/${alice}`);
    await page.getByRole('link', { name: 'As of…' }).click();
    await page.waitForURL(new RegExp(`#/audit\\?account=${alice}&position=\\d+$`));
    await page.locator('.audit-balance').waitFor();
    expect(await page.locator('.audit-balance').textContent()).to.equal('699.50 EUR');
  });

  it("shows the API's problem detail for a position it refuses, in an alert", async () => {
    await page.goto(`${folio.baseUrl}/#/audit`);
    await page.getByRole('link', { name: 'As of' }).waitFor();
    await page.getByLabel('Account id (optional)').fill(alice);
    await page.getByLabel('Global position').fill('01');
    await page.getByRole('button', { name: 'Show' }).click();
    const alerts = page.getByRole('alert');
    await alerts.first().waitFor();
    expect(await alerts.allTextContents()).to.deep.equal([
      `Account ${alice}: invalid request query: query.position: expected a position as the write answered it: decimal digits without sign or leading zeros`,
      'Trial balance: invalid request query: query.position: expected a position as the write answered it: decimal digits without sign or leading zeros',
    ]);
    await page.getByLabel('Global position').fill('');
    await page.getByLabel('Or recorded by (time)').fill('2000-01-01');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('alert').filter({ hasText: 'did not exist at that point' }).waitFor();
  });
});
