/**
 * Runs the demo story against a running Folio over its write API: opens the cast's accounts,
 * funds them, then writes steps from a few concurrent workers until the time or the number of
 * transactions is reached, reporting progress as it goes.
 */
import { createRandom } from './demoRandom.js';
import { demoCast, nextStep, openingDeposit, settle, type DemoAccount, type DemoStep, type DemoWorld } from './demoScenario.js';
import { RefusedError, type WriteClient } from './writeClient.js';

export interface DemoOptions {
  client: WriteClient;
  /** Stop after this long… */
  durationMs: number;
  /** …or once this many transactions (deposits and transfers, completed or failed) are written. */
  transactions: number;
  seed: number;
  /** Requests in flight at once. */
  concurrency: number;
  progressEveryMs: number;
  report: (line: string) => void;
  now?: () => number;
}

export interface DemoTally {
  accounts: number;
  transactions: number;
  completed: number;
  failed: number;
  /** Refused before anything was written (insufficient funds, a frozen source). */
  refused: number;
  /** Card payments handed to the sandbox provider (its callbacks decide how they end). */
  payments: number;
  frozen: number;
  elapsedMs: number;
}

const outcomeOf = async (client: WriteClient, step: DemoStep): Promise<'completed' | 'failed' | 'done'> => {
  switch (step.kind) {
    case 'deposit':
      return (await client.deposit(step.account.id, step.amount, step.account.currency.code, step.reference)).status === 'completed' ? 'completed' : 'failed';
    case 'transfer': {
      const answer = await client.transfer({
        fromAccountId: step.from.id,
        toAccountId: step.to.id,
        amount: step.amount,
        currency: step.from.currency.code,
        reference: step.reference,
        description: step.description,
        metadata: step.metadata,
      });
      return answer.status === 'completed' ? 'completed' : 'failed';
    }
    case 'payment': {
      const payment = await client.createPayment({
        merchantAccountId: step.merchant.id,
        amount: step.amount,
        currency: step.merchant.currency.code,
        provider: 'sandbox',
        description: step.description,
        customerRef: step.customerRef,
      });
      await client.submitPayment(payment.id);
      return 'done';
    }
    case 'freeze':
      await client.freeze(step.account.id, step.reason);
      return 'done';
    case 'unfreeze':
      await client.unfreeze(step.account.id);
      return 'done';
  }
};

export const runDemo = async (options: DemoOptions): Promise<DemoTally> => {
  const { client, report } = options;
  const now = options.now ?? Date.now;
  const started = now();
  const tally: DemoTally = { accounts: 0, transactions: 0, completed: 0, failed: 0, refused: 0, payments: 0, frozen: 0, elapsedMs: 0 };
  const world: DemoWorld = { accounts: [], random: createRandom(options.seed), sequence: 0, orders: [] };

  const take = async (step: DemoStep) => {
    let outcome: 'completed' | 'failed' | 'done' | 'refused';
    try {
      outcome = await outcomeOf(client, step);
    } catch (error) {
      if (!(error instanceof RefusedError)) throw error;
      outcome = 'refused';
    }
    settle(world, step, outcome);
    if (outcome === 'completed' || outcome === 'failed') {
      tally.transactions++;
      tally[outcome]++;
    } else if (outcome === 'refused') tally.refused++;
    else if (step.kind === 'freeze') tally.frozen++;
    else if (step.kind === 'payment') tally.payments++;
  };

  await client.ready();
  const cast = demoCast();
  world.accounts = await Promise.all(
    cast.map(async (member): Promise<DemoAccount> => {
      const { id } = await client.openAccount(member.ownerId, member.currency.code, member.kind);
      return { ...member, id, frozen: false, balance: 0n };
    }),
  );
  tally.accounts = world.accounts.length;
  report(`opened ${tally.accounts} accounts in ${new Set(cast.map((member) => member.currency.code)).size} currencies`);
  for (const account of world.accounts) await take(openingDeposit(world, account));

  const done = () => now() - started >= options.durationMs || tally.transactions >= options.transactions;
  const progress = setInterval(() => {
    const seconds = (now() - started) / 1000;
    report(
      `${Math.round(seconds)} s: ${tally.transactions} transactions (${tally.completed} completed, ${tally.failed} failed), ` +
        `${tally.refused} refused, ${tally.payments} card payments, ${Math.round(tally.transactions / Math.max(seconds, 0.001))}/s`,
    );
  }, options.progressEveryMs);
  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (!done()) await take(nextStep(world));
      }),
    );
  } finally {
    clearInterval(progress);
  }
  // Leave no merchant frozen, so the demo's accounts take new transfers afterwards.
  for (const account of world.accounts.filter((candidate) => candidate.frozen)) await take({ kind: 'unfreeze', account });
  tally.elapsedMs = now() - started;
  return tally;
};
