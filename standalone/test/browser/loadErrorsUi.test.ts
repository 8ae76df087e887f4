import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { closeTestPage, launchChromium, openTestPage } from './chromium.js';
import { startFolioInProcess, type RunningFolio } from '../fixtures/inProcessFolio.js';

describe('pages that cannot be shown, in Chromium', function () {
  this.timeout(60_000);
  let folio: RunningFolio;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    browser = await launchChromium();
    folio = await startFolioInProcess('folio-load-errors-ui-');
  });

  afterEach(async function () {
    await closeTestPage(page, this.currentTest);
  });

  after(async () => {
    await browser?.close();
    await folio?.stop();
    expect(pageErrors, 'errors the pages logged').to.deep.equal([]);
  });

  it('names the page that could not be shown in the tab title, not the page before it', async () => {
    page = await openTestPage(browser, folio.adminKey, { width: 1280, height: 900 }, pageErrors);
    await page.goto(`${folio.baseUrl}/#/reconciliation`);
    await page.getByRole('heading', { level: 1, name: 'Reconciliation' }).waitFor();
    expect(await page.title()).to.equal('Reconciliation · Folio');
    await page.goto(`${folio.baseUrl}/#/payments/1`);
    await page.getByRole('heading', { level: 1, name: 'Payment unavailable' }).waitFor();
    expect(await page.title()).to.equal('Payment unavailable · Folio');
    await page.goto(`${folio.baseUrl}/#/nowhere`);
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    expect(await page.title()).to.equal('Page not found · Folio');
  });

  it("shows the API's reason when it refuses the first request, rather than calling the server unreachable", async () => {
    // Failed sign-ins from an address lock it out, a good key included, until the bucket refills (here: not during the test).
    const locked = await startFolioInProcess('folio-locked-out-ui-', { FOLIO_RATE_FAILURES_PER_MINUTE: '0.01', FOLIO_RATE_FAILURES_BURST: '1' });
    try {
      for (const expected of [401, 429]) {
        const refused = await fetch(`${locked.baseUrl}/v1/currencies`, { headers: { authorization: 'Bearer folio_0000000000000000_not-a-key' } });
        expect(refused.status).to.equal(expected);
      }
      page = await openTestPage(browser, locked.adminKey, { width: 1280, height: 900 }, pageErrors);
      await page.goto(locked.baseUrl);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).to.match(/^too many failed authentications from this address; retry after \d+ s$/);
    } finally {
      await locked.stop();
    }
  });
});
