import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createWriteClient } from '../../src/demo/writeClient.js';
import { closeTestPage, launchChromium, openTestPage, screenshotFile } from './chromium.js';
import { startFolioInProcess, type RunningFolio } from '../fixtures/inProcessFolio.js';

interface ChartLabel {
  text: string;
  /** Pixels of the label outside the chart's box, on the left and on the right. */
  cutLeft: number;
  cutRight: number;
}

/** The chart's labels once the account page shows it, and how much of each the chart's box cuts off. */
const chartLabelsOf = async (page: Page, folio: RunningFolio, accountId: string): Promise<ChartLabel[]> => {
  await page.goto(`${folio.baseUrl}/#/accounts/${accountId}`);
  const chart = page.locator('svg.chart');
  await chart.waitFor();
  return chart.evaluate((svg) => {
    const box = svg.getBoundingClientRect();
    return [...svg.querySelectorAll('text')].map((label) => {
      const shown = label.getBoundingClientRect();
      return { text: label.textContent ?? '', cutLeft: Math.max(0, box.left - shown.left), cutRight: Math.max(0, shown.right - box.right) };
    });
  });
};

describe('balance chart in Chromium', function () {
  this.timeout(60_000);
  let folio: RunningFolio;
  let browser: Browser;
  let page: Page;
  let merchant: string;
  let treasury: string;
  const pageErrors: string[] = [];

  before(async () => {
    browser = await launchChromium();
    folio = await startFolioInProcess('folio-chart-ui-');
    const client = createWriteClient(folio.baseUrl, folio.adminKey);
    merchant = (await client.openAccount('owner-northwind', 'EUR', 'merchant')).id;
    treasury = (await client.openAccount('owner-treasury', 'EUR', 'merchant')).id;
    await client.deposit(merchant, 1_234_567_890n, 'EUR', 'SETTLEMENT 2026-11');
    const last = await client.deposit(treasury, 999_999_999_999_999_999n, 'EUR', 'FUNDING');
    expect(await folio.system.projections.waitFor(BigInt(last.position), 10_000), 'read models caught up').to.equal(true);
  });

  afterEach(async function () {
    await closeTestPage(page, this.currentTest);
  });

  after(async () => {
    await browser?.close();
    await folio?.stop();
    expect(pageErrors, 'errors the pages logged').to.deep.equal([]);
  });

  it('shows every balance label whole on a phone, where a clipped one would read as another amount', async () => {
    page = await openTestPage(browser, folio.adminKey, { width: 390, height: 844 }, pageErrors);
    const labels = await chartLabelsOf(page, folio, merchant);
    await page.locator('svg.chart').screenshot({ path: screenshotFile('phone-balance-chart') });
    expect(labels.map((label) => label.text)).to.include('12,345,678.90 EUR');
    expect(labels.filter((label) => label.cutLeft > 0.5 || label.cutRight > 0.5)).to.deep.equal([]);
  });

  it('keeps the largest balance the ledger holds whole on a desktop, and says which zone its times are in', async () => {
    page = await openTestPage(browser, folio.adminKey, { width: 1024, height: 768 }, pageErrors);
    const labels = await chartLabelsOf(page, folio, treasury);
    expect(labels.map((label) => label.text)).to.include('9,999,999,999,999,999.99 EUR');
    expect(labels.filter((label) => label.cutLeft > 0.5 || label.cutRight > 0.5)).to.deep.equal([]);
    const times = labels.filter((label) => /^\d{4}-/.test(label.text)).map((label) => label.text);
    expect(times).to.have.length(2);
    for (const time of times) expect(time).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  });
});
