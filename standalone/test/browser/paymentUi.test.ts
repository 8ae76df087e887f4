import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createWriteClient } from '../../src/demo/writeClient.js';
import { closeTestPage, launchChromium, openTestPage, screenshotFile } from './chromium.js';
import { startFolioInProcess, type RunningFolio } from '../fixtures/inProcessFolio.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('payment page in Chromium', function () {
  this.timeout(60_000);
  let folio: RunningFolio;
  let browser: Browser;
  let page: Page;
  let merchant: string;
  let payment: { id: string; providerRef: string; state: string };
  const pageErrors: string[] = [];

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${folio.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...folio.auth },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as any;
    expect(response.status, JSON.stringify(answer)).to.be.oneOf([200, 201]);
    return answer;
  };

  before(async () => {
    browser = await launchChromium();
    folio = await startFolioInProcess('folio-payment-ui-', { FOLIO_SANDBOX_PROVIDERS: 'sandbox' });
    const client = createWriteClient(folio.baseUrl, folio.adminKey);
    merchant = (await client.openAccount('merch-nordlicht-books', 'EUR', 'merchant')).id;
    // The sandbox fails some payments and leaves some unsettled, as providers do: take the first
    // it settles (nothing moves it on after that but the refund below).
    let settled: typeof payment | undefined;
    for (let attempt = 0; attempt < 10 && settled === undefined; attempt++) {
      const created = await client.createPayment({
        merchantAccountId: merchant,
        amount: 4_990n,
        currency: 'EUR',
        provider: 'sandbox',
        description: 'Nordlicht Books: travel guide',
        customerRef: `cust-${attempt}`,
      });
      await client.submitPayment(created.id);
      const deadline = Date.now() + 3_000;
      let current: any;
      do {
        await sleep(50);
        current = await (await fetch(`${folio.baseUrl}/v1/payments/${created.id}`, { headers: folio.auth })).json();
      } while (current.state !== 'SETTLED' && current.state !== 'FAILED' && Date.now() < deadline);
      if (current.state === 'SETTLED') settled = current;
    }
    expect(settled, 'a payment the sandbox settled').to.not.equal(undefined);
    const refunded = await post(`/v1/payments/${settled!.id}/refunds`, { amount: '1000' });
    expect(await folio.system.projections.waitFor(BigInt(refunded.payment.position), 10_000), 'read models caught up').to.equal(true);
    payment = refunded.payment;
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
    expect(pageErrors, 'errors the pages logged').to.deep.equal([]);
  });

  it("finds the payment by its provider reference and shows its state, lifecycle, refund and journals", async () => {
    await page.goto(folio.baseUrl);
    await page.getByRole('searchbox', { name: 'Search transactions' }).fill(payment.providerRef);
    await page.getByRole('link', { name: `sandbox ${payment.id}` }).click();
    await page.getByRole('heading', { level: 1, name: /Nordlicht Books: travel guide/ }).waitFor();
    expect(page.url()).to.match(new RegExp(`#/payments/${payment.id}$`));
    expect(await page.locator('h1 .badge').textContent()).to.equal('Settled');
    expect(await page.locator('.headline-amount').textContent()).to.equal('49.90 EUR');
    expect(await page.locator('.provider-ref').textContent()).to.equal(payment.providerRef);
    const states = await page.locator('ol.payment-timeline .timeline-state').allTextContents();
    expect(states).to.deep.equal(['Created', 'Pending', 'Paid', 'Settled']);
    const refunds = await page.locator('table.refunds tbody tr td').allTextContents();
    expect(refunds.slice(1)).to.deep.equal(['Refunded', refunds[2]!, '10.00 EUR']);
    const journals = await page.locator('ul.payment-journals li').allTextContents();
    expect(journals).to.include('Payment capture · Completed · 49.90 EUR');
    expect(journals).to.include('Refund · Completed · 10.00 EUR');
    expect(journals).to.include('Payment settlement · Completed · 48.46 EUR');
    expect(journals).to.include('Provider fee · Completed · 1.44 EUR');
    expect(journals.some((journal) => journal.includes('In transit')), journals.join('; ')).to.equal(false);
    await page.screenshot({ path: screenshotFile('payment-detail'), fullPage: true });

    await page.getByRole('link', { name: merchant }).click();
    await page.waitForURL(new RegExp(`#/accounts/${merchant}$`));
  });

  it("leads from a journal's transaction to its payment", async () => {
    await page.goto(`${folio.baseUrl}/#/payments/${payment.id}`);
    await page.getByRole('link', { name: 'Payment capture' }).click();
    await page.getByRole('heading', { level: 1, name: /Payment capture/ }).waitFor();
    expect(await page.locator('section', { hasText: 'References' }).textContent()).to.contain(payment.providerRef);
    await page.screenshot({ path: screenshotFile('payment-capture-transaction'), fullPage: true });
    await page.locator('a.payment-link').click();
    await page.getByRole('heading', { level: 1, name: /Nordlicht Books/ }).waitFor();
    expect(page.url()).to.match(new RegExp(`#/payments/${payment.id}$`));
  });
});
