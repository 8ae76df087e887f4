/**
 * `npm run bench:ui`: how long the UI takes to show its first search result with 100,000
 * transactions in the store. Folio runs as `npm start` runs it (embedded stores, fsync on) in a
 * child process on a fresh data directory; this process seeds it over the write API (batches of
 * 1000 transfers), waits for the projections, then opens the UI in headless Chromium.
 *
 * Measured, in interleaved rounds:
 * - UI: from the search box's input event (the whole query entered at once, as a paste) to the
 *   first result row in the DOM, in the page's own clock; it includes the UI's typing pause
 *   (100 ms), the API call, and rendering; and from the start of the search request (resource
 *   timing) to that row, which leaves the pause out;
 * - baseline: the same search as a bare `GET /v1/transactions` from this process.
 * Two queries: a transaction's reference (one hit) and a word many transactions share.
 *
 * Environment: BENCH_TRANSACTIONS (100000), BENCH_ROUNDS (15), BENCH_DATA_DIR (the OS temp dir).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateApiKey } from '@folio/shared';
import type { Page } from 'playwright-core';
import { launchChromium, screenshotFile } from '../test/browser/chromium.js';
import { median, numberFromEnv } from '@folio/shared/testing';

const TRANSACTIONS = numberFromEnv('BENCH_TRANSACTIONS', 100_000);
const ROUNDS = numberFromEnv('BENCH_ROUNDS', 15);
const DATA_ROOT = process.env.BENCH_DATA_DIR ?? tmpdir();
/** The admin key Folio starts with; the API calls and the browser's session use it. */
const BENCH_KEY = generateApiKey().token;
const AUTH = { Authorization: `Bearer ${BENCH_KEY}` };
const BATCH = 1000;
const ACCOUNTS = 200;
const MAIN_SCRIPT = fileURLToPath(new URL('../src/main.js', import.meta.url));

const WORDS = ['invoice', 'rent', 'salary', 'refund', 'groceries', 'subscription', 'hotel', 'train', 'dinner', 'insurance'];
const referenceOf = (n: number) => `BENCH-${String(n).padStart(7, '0')}`;

const startFolio = (dataDir: string) =>
  new Promise<{ url: string; stop: () => Promise<void> }>((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_SCRIPT], {
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        FOLIO_DATA_DIR: dataDir,
        EVENTSTORE_URL: '',
        FOLIO_READ_WAIT_MS: '60000',
        FOLIO_BOOTSTRAP_ADMIN_KEY: BENCH_KEY,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.on('exit', (code) => reject(new Error(`folio exited with code ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg: string; port?: number };
      if (entry.msg !== 'folio listening') return;
      resolve({
        url: `http://127.0.0.1:${entry.port}`,
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners('exit');
            child.on('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });

const post = async (url: string, body: unknown): Promise<any> => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': randomUUID(), ...AUTH },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
};

/** Opens and funds the accounts, then writes the transfers in batches, two batches in flight. */
const seed = async (url: string): Promise<bigint> => {
  const accounts = await Promise.all(
    Array.from({ length: ACCOUNTS }, async (_, i): Promise<string> =>
      (await post(`${url}/v1/accounts`, { ownerId: `bench-${i}`, currency: 'EUR', kind: 'customer' })).id,
    ),
  );
  const deposits = await Promise.all(
    accounts.map((accountId) => post(`${url}/v1/deposits`, { accountId, amount: '100000000000', currency: 'EUR', reference: `FUNDING ${accountId}` })),
  );
  let last = deposits.reduce((max, answer) => (BigInt(answer.position) > max ? BigInt(answer.position) : max), 0n);
  const batches = Math.ceil(TRANSACTIONS / BATCH);
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < batches) {
      const batch = next++;
      const transfers = Array.from({ length: Math.min(BATCH, TRANSACTIONS - batch * BATCH) }, (_, i) => {
        const n = batch * BATCH + i;
        const from = accounts[n % ACCOUNTS]!;
        const to = accounts[(n * 7 + 1) % ACCOUNTS]!;
        const word = WORDS[n % WORDS.length]!;
        return {
          fromAccountId: from,
          toAccountId: to === from ? accounts[(n + 1) % ACCOUNTS]! : to,
          amount: String(100 + ((n * 7919) % 500_000)),
          currency: 'EUR',
          reference: referenceOf(n),
          description: `${word} payment ${n}`,
          metadata: { channel: n % 2 === 0 ? 'web' : 'mobile', batch: String(batch) },
        };
      });
      const { results } = await post(`${url}/v1/transfers/batch`, { transfers });
      for (const result of results as { status: number; body: { position?: string } }[]) {
        if (result.status !== 201) throw new Error(`a transfer was refused: ${JSON.stringify(result)}`);
        if (BigInt(result.body.position!) > last) last = BigInt(result.body.position!);
      }
      if ((batch + 1) % 10 === 0) console.log(`  seeded ${(batch + 1) * BATCH} transfers in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  };
  await Promise.all([worker(), worker()]);
  return last;
};

const waitForProjections = async (url: string, position: bigint): Promise<void> => {
  for (;;) {
    const { projections } = (await (await fetch(`${url}/v1/projections`, { headers: AUTH })).json()) as { projections: { position: string | null }[] };
    if (projections.every((projection) => projection.position !== null && BigInt(projection.position) >= position)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
};

/**
 * In the page: enters `query` in the search box at once, and resolves with the milliseconds from
 * its input event to the first result row satisfying `expected` (a reference, or a word its
 * description holds). Written as a string because it runs in the browser, not here.
 */
const MEASURE_IN_PAGE = `async ({ query, expected }) => {
  const box = document.getElementById('q');
  const results = document.querySelector('.results');
  const shown = () => [...results.querySelectorAll('tbody tr')].some((row) =>
    row.querySelector('td.reference')?.textContent === expected || (row.querySelector('td.description')?.textContent ?? '').startsWith(expected + ' '));
  return await new Promise((resolve, reject) => {
    let start = 0;
    const observer = new MutationObserver(() => {
      if (!shown()) return;
      observer.disconnect();
      const end = performance.now();
      const request = performance.getEntriesByType('resource').filter((entry) => entry.name.includes('/v1/transactions?q=' + encodeURIComponent(query) + '&')).at(-1);
      resolve({ total: end - start, fromRequest: request === undefined ? NaN : end - request.startTime });
    });
    observer.observe(results, { childList: true, subtree: true });
    setTimeout(() => reject(new Error('no result within 10 s for ' + query)), 10000);
    start = performance.now();
    box.value = query;
    box.dispatchEvent(new Event('input', { bubbles: true }));
  });
}`;

interface UiSample {
  /** Input event → first result row. */
  total: number;
  /** The search request's start → first result row: the request and rendering, without the typing pause. */
  fromRequest: number;
}

const measureUi = async (page: Page, query: string, expected: string): Promise<UiSample> => {
  // From an empty box, which shows the newest transactions, so every round starts alike.
  await page.fill('#q', '');
  await page.waitForFunction(`document.querySelectorAll('.results tbody tr').length > 0 && !document.getElementById('view').hasAttribute('aria-busy')`);
  await page.waitForTimeout(150);
  await page.evaluate('performance.clearResourceTimings()');
  return page.evaluate(`(${MEASURE_IN_PAGE})(${JSON.stringify({ query, expected })})`) as Promise<UiSample>;
};

const measureApi = async (url: string, query: string): Promise<number> => {
  const started = performance.now();
  const response = await fetch(`${url}/v1/transactions?q=${encodeURIComponent(query)}&limit=25`, { headers: AUTH });
  const { items } = (await response.json()) as { items: unknown[] };
  if (items.length === 0) throw new Error(`no hit for ${query}`);
  return performance.now() - started;
};

const main = async () => {
  console.log(`bench:ui — ${TRANSACTIONS} transactions, ${ROUNDS} rounds`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; date ${new Date().toISOString()}`);
  const dataDir = mkdtempSync(join(DATA_ROOT, 'folio-bench-ui-'));
  const folio = await startFolio(dataDir);
  const browser = await launchChromium();
  try {
    const seedStarted = Date.now();
    const position = await seed(folio.url);
    console.log(`seeded ${TRANSACTIONS} transfers (+${ACCOUNTS} deposits) in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);
    const catchUpStarted = Date.now();
    await waitForProjections(folio.url, position);
    console.log(`projections reached position ${position} ${((Date.now() - catchUpStarted) / 1000).toFixed(1)} s after the last write`);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Signed in as the sign-in form leaves a session: the key in sessionStorage.
    await page.addInitScript({ content: `sessionStorage.setItem('folio.apiKey', ${JSON.stringify(BENCH_KEY)});` });
    const loadStarted = Date.now();
    await page.goto(folio.url);
    await page.waitForSelector('.results tbody tr');
    console.log(`page load to first rows (no query): ${Date.now() - loadStarted} ms`);

    const scenarios = [
      { name: 'reference (1 hit)', query: (round: number) => referenceOf((round * 6151) % TRANSACTIONS), expected: (query: string) => query },
      { name: `word (~${Math.round(TRANSACTIONS / WORDS.length)} hits)`, query: (round: number) => WORDS[round % WORDS.length]!, expected: (query: string) => query },
    ];
    const samples = new Map(scenarios.map((scenario) => [scenario.name, { ui: [] as number[], fromRequest: [] as number[], api: [] as number[] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of scenarios) {
        const query = scenario.query(round);
        const sample = samples.get(scenario.name)!;
        sample.api.push(await measureApi(folio.url, query));
        const { total, fromRequest } = await measureUi(page, query, scenario.expected(query));
        sample.ui.push(total);
        sample.fromRequest.push(fromRequest);
      }
    }
    await page.screenshot({ path: screenshotFile('bench-ui-last-search') });

    console.log(
      '\n| query | UI: input → first row, median ms | p90 ms | UI: request start → first row, median ms | baseline: GET /v1/transactions, median ms | request → row ÷ API |',
    );
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const [name, { ui, fromRequest, api }] of samples) {
      const p90 = [...ui].sort((a, b) => a - b)[Math.ceil(ui.length * 0.9) - 1]!;
      console.log(
        `| ${name} | ${median(ui).toFixed(0)} | ${p90.toFixed(0)} | ${median(fromRequest).toFixed(1)} | ${median(api).toFixed(1)} | ${(median(fromRequest) / median(api)).toFixed(2)} |`,
      );
    }
    for (const [name, { ui, fromRequest, api }] of samples) {
      console.log(`\n${name}`);
      console.log(`  UI input → row ms:   ${ui.map((value) => value.toFixed(0)).join(' · ')}`);
      console.log(`  UI request → row ms: ${fromRequest.map((value) => value.toFixed(1)).join(' · ')}`);
      console.log(`  API ms:              ${api.map((value) => value.toFixed(1)).join(' · ')}`);
    }
  } finally {
    await browser.close();
    await folio.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

await main();
