/**
 * Headless Chromium for the browser tests and the UI benchmark: Debian's `chromium` package
 * (`CHROMIUM_PATH` to use another build), driven by playwright-core, which downloads nothing.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const chromiumPath = (): string => process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Fails loudly when Chromium is missing: a browser suite that skips itself proves nothing. */
export const launchChromium = async (): Promise<Browser> => {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}: install Debian's package (apt-get install -y chromium) ` +
        'or set CHROMIUM_PATH to a Chromium executable',
    );
  }
  return chromium.launch({ executablePath, headless: true });
};

/** Where screenshots are kept as test artifacts (git-ignored), created on first use. */
export const screenshotFile = (name: string): string => {
  const directory = fileURLToPath(new URL('../../../../artifacts/screenshots/', import.meta.url));
  mkdirSync(directory, { recursive: true });
  return `${directory}${name}.png`;
};

/** A page already signed in with `key`, as the sign-in form leaves it (the key in sessionStorage). */
export const signedInPage = async (browser: Browser, key: string, options: Parameters<Browser['newPage']>[0] = {}): Promise<Page> => {
  const page = await browser.newPage(options);
  await page.addInitScript({ content: `if (location.protocol === 'http:') sessionStorage.setItem('folio.apiKey', ${JSON.stringify(key)});` });
  return page;
};

/** A signed-in page for one test, whose uncaught page errors land in `pageErrors`. */
export const openTestPage = async (browser: Browser, key: string, viewport: { width: number; height: number }, pageErrors: string[]): Promise<Page> => {
  const page = await signedInPage(browser, key, { viewport });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return page;
};

/** Closes a test's page, keeping a screenshot of it when the test failed. */
export const closeTestPage = async (page: Page, test: Mocha.Test | undefined): Promise<void> => {
  if (test?.state === 'failed') await page.screenshot({ path: screenshotFile(`failed-${test.title.replace(/\W+/g, '-')}`), fullPage: true });
  await page.close();
};

