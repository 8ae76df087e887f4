import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openTestPage, screenshotFile } from './chromium.js';
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

/** A provider report with two charges Folio never saw, the second one in the file twice. */
const report = [
  'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,charge_id,payment_intent_id,description',
  'txn_ghost_1,2026-06-01 10:00:00,eur,7.77,0.00,7.77,charge,ch_ghost_1,pi_ghost_1,ghost one',
  'txn_ghost_2,2026-06-01 11:00:00,eur,12.00,0.30,11.70,charge,ch_ghost_2,pi_ghost_2,ghost two',
  'txn_ghost_2,2026-06-01 11:00:00,eur,12.00,0.30,11.70,charge,ch_ghost_2,pi_ghost_2,ghost two',
  '',
].join('\n');

const discrepancies = async (folio: RunningFolio, code: string) => {
  const response = await fetch(`${folio.baseUrl}/v1/reconciliation/discrepancies?code=${code}`, { headers: folio.auth });
  return ((await response.json()) as { items: { id: string }[] }).items;
};

const codesShown = (page: Page) => page.locator('li.discrepancy').evaluateAll((items) => items.map((item) => item.getAttribute('data-code')).sort());

describe('reconciliation dashboard in Chromium', function () {
  this.timeout(60_000);
  let folio: RunningFolio;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    browser = await launchChromium();
    folio = await startFolioInProcess('folio-recon-ui-');
    const imported = await fetch(`${folio.baseUrl}/v1/statements?provider=sandbox&format=stripe-balance`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', ...folio.auth },
      body: report,
    });
    const { position } = (await imported.json()) as { position: string };
    expect(await folio.system.projections.waitFor(BigInt(position), 10_000)).to.equal(true);
    page = await openTestPage(browser, folio.adminKey, { width: 1280, height: 900 }, pageErrors);
  });

  after(async () => {
    await browser?.close();
    await folio?.stop();
  });

  it('shows the summary per provider and currency and the open discrepancies with their evidence, filtered by class', async () => {
    await page.goto(`${folio.baseUrl}/#/reconciliation`);
    await until('the discrepancies', () => codesShown(page), (codes) => codes.length === 3);
    expect(await codesShown(page)).to.deep.equal(['DUPLICATE_PROVIDER_ROW', 'PROVIDER_UNMATCHED', 'PROVIDER_UNMATCHED']);
    const summaryRow = await page.locator('table.reconciliation-summary tbody tr').first().locator('td').allTextContents();
    expect(summaryRow.slice(0, 2)).to.deep.equal(['sandbox', 'EUR']);
    expect(summaryRow[6]).to.equal('19.77 EUR');
    expect(summaryRow[7]).to.equal('-19.77 EUR');

    await page.locator('li.discrepancy[data-code="DUPLICATE_PROVIDER_ROW"] summary').click();
    const evidence = await page.locator('li.discrepancy[data-code="DUPLICATE_PROVIDER_ROW"] .evidence li').allTextContents();
    expect(evidence).to.have.length(2);
    expect(evidence[0]).to.match(/^Statement row: line 3 of file/);
    expect(evidence[1]).to.match(/^Statement row: line 4 of file/);
    await page.screenshot({ path: screenshotFile('reconciliation-dashboard'), fullPage: true });

    // Who did what and why is shown as text, whatever the reason says.
    const [duplicate] = await discrepancies(folio, 'DUPLICATE_PROVIDER_ROW');
    const assigned = await fetch(`${folio.baseUrl}/v1/reconciliation/discrepancies/${duplicate!.id}/assign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'assign-duplicate-1', ...folio.auth },
      body: JSON.stringify({ assignee: '<b>ops-anna</b>', reason: '<img src=x onerror="document.title=1">asked the provider' }),
    });
    expect(assigned.status).to.equal(200);
    const { position } = (await assigned.json()) as { position: string };
    expect(await folio.system.projections.waitFor(BigInt(position), 10_000)).to.equal(true);
    await page.reload();
    await page.locator('li.discrepancy[data-code="DUPLICATE_PROVIDER_ROW"] summary').click();
    const workflow = page.locator('li.discrepancy[data-code="DUPLICATE_PROVIDER_ROW"] .workflow li');
    expect(await workflow.count()).to.equal(1);
    expect(await workflow.textContent()).to.match(/ assigned to <b>ops-anna<\/b> by key:[0-9a-f]+: <img src=x onerror="document.title=1">asked the provider$/);
    expect(await page.locator('li.discrepancy img, li.discrepancy b').count()).to.equal(0);

    await page.getByLabel('Class').selectOption('PROVIDER_UNMATCHED');
    await page.getByRole('button', { name: 'Filter' }).click();
    await until('the filtered list', () => codesShown(page), (codes) => codes.length === 2);
    expect(page.url()).to.contain('code=PROVIDER_UNMATCHED');
    // As on every other page, the new page's heading takes the focus rather than the top of the document.
    expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).to.equal('Reconciliation');
    expect(await page.locator('li.discrepancy .found').first().textContent()).to.match(/^Found \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by rules v\d+; provider sandbox$/);
    expect(pageErrors).to.deep.equal([]);
  });
});

describe('reconciliation dashboard in Chromium, past the first page', function () {
  this.timeout(60_000);

  it('pages through more discrepancies than one page holds, each once', async () => {
    const browser = await launchChromium();
    const folio = await startFolioInProcess('folio-recon-pages-');
    const pageErrors: string[] = [];
    try {
      const rows = Array.from({ length: 105 }, (_, i) => `txn_many_${i},2026-06-01 10:00:00,eur,1.00,0.00,1.00,charge,ch_many_${i},pi_many_${i},many ${i}`);
      const imported = await fetch(`${folio.baseUrl}/v1/statements?provider=sandbox&format=stripe-balance`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', ...folio.auth },
        body: [report.split('\n')[0], ...rows, ''].join('\n'),
      });
      const { position } = (await imported.json()) as { position: string };
      expect(await folio.system.projections.waitFor(BigInt(position), 10_000)).to.equal(true);
      const page = await openTestPage(browser, folio.adminKey, { width: 1280, height: 900 }, pageErrors);
      const explanations = () => page.locator('li.discrepancy .explanation').allTextContents();
      await page.goto(`${folio.baseUrl}/#/reconciliation`);
      const first = await until('the first page', explanations, (items) => items.length === 100);
      await page.getByRole('link', { name: 'Next 100 →' }).click();
      const second = await until('the second page', explanations, (items) => items.length === 5);
      expect(new Set([...first, ...second]).size, 'each discrepancy once').to.equal(105);
      await page.goBack();
      expect(await until('the first page again', explanations, (items) => items.length === 100)).to.deep.equal(first);
      expect(pageErrors).to.deep.equal([]);
    } finally {
      await browser.close();
      await folio.stop();
    }
  });
});
