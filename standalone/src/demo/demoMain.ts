/**
 * `npm run demo`: fills a running Folio (`npm start`) with demo data for about a minute.
 *
 *   FOLIO_URL        where Folio listens (default http://localhost:$PORT, PORT default 3000)
 *   FOLIO_API_KEY    an admin key (default: FOLIO_BOOTSTRAP_ADMIN_KEY, as `npm start` was given)
 *   DEMO_SECONDS     how long to write (default 60)
 *   DEMO_TRANSACTIONS stop earlier after this many transactions (default 20000)
 *   DEMO_SEED        the story's seed (default: the clock, so each run differs)
 */
import { z } from 'zod';
import { runDemo } from './demoRun.js';
import { createWriteClient } from './writeClient.js';

const wholeNumber = (max: number) => z.string().regex(/^[1-9][0-9]{0,8}$/, 'expected a whole number').transform(Number).refine((n) => n <= max, `at most ${max}`);

const environmentSchema = z.object({
  PORT: wholeNumber(65_535).default(3000),
  FOLIO_URL: z.url({ protocol: /^https?$/ }).optional(),
  DEMO_SECONDS: wholeNumber(3600).default(60),
  DEMO_TRANSACTIONS: wholeNumber(10_000_000).default(20_000),
  DEMO_SEED: wholeNumber(2 ** 31).optional(),
  FOLIO_API_KEY: z.string().min(1).optional(),
  FOLIO_BOOTSTRAP_ADMIN_KEY: z.string().min(1).optional(),
});

const parsed = environmentSchema.safeParse(process.env);
if (!parsed.success) {
  console.error(`npm run demo: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  process.exit(2);
}
const environment = parsed.data;
const baseUrl = environment.FOLIO_URL ?? `http://localhost:${environment.PORT}`;
const seed = environment.DEMO_SEED ?? Date.now() % 2 ** 31;

console.log(`demo: writing to ${baseUrl} for up to ${environment.DEMO_SECONDS} s or ${environment.DEMO_TRANSACTIONS} transactions (seed ${seed})`);
try {
  const tally = await runDemo({
    client: createWriteClient(baseUrl, environment.FOLIO_API_KEY ?? environment.FOLIO_BOOTSTRAP_ADMIN_KEY),
    durationMs: environment.DEMO_SECONDS * 1000,
    transactions: environment.DEMO_TRANSACTIONS,
    seed,
    concurrency: 8,
    progressEveryMs: 5000,
    report: (line) => console.log(`demo: ${line}`),
  });
  console.log(
    `demo: done in ${Math.round(tally.elapsedMs / 100) / 10} s: ${tally.transactions} transactions ` +
      `(${tally.completed} completed, ${tally.failed} failed), ${tally.refused} refused, ${tally.payments} card payments, ` +
      `${tally.frozen} merchant reviews. ` +
      `Open ${baseUrl} to search them.`,
  );
} catch (error) {
  console.error(`demo: ${(error as Error).message}`);
  process.exit(1);
}
