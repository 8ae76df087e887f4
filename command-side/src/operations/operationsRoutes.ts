import { formatMinorUnits } from '@folio/shared';
import { Router } from 'express';
import type { WriteApiDependencies } from '../http/writeApiDependencies.js';
import type { OpenJournal } from '../movements/openJournals.js';

const journalView = (journal: OpenJournal, now: number) => ({
  kind: journal.kind,
  id: journal.id,
  fromAccountId: journal.movement.fromAccountId,
  toAccountId: journal.movement.toAccountId,
  amount: formatMinorUnits(journal.movement.amount),
  currency: journal.movement.currency,
  inTransit: formatMinorUnits(journal.inTransit),
  openedAt: journal.openedAt.toISOString(),
  ageMs: now - journal.openedAt.getTime(),
});

/**
 * What operators watch on the write side: money in transit (movements between their legs) and
 * movements stuck longer than the threshold.
 */
export const operationsRoutes = (deps: WriteApiDependencies): Router => {
  const router = Router();

  router.get('/v1/operations/in-transit', (_request, response) => {
    const now = deps.clock().getTime();
    const open = deps.recovery.open();
    const totals = new Map<string, bigint>();
    for (const journal of open) {
      totals.set(journal.movement.currency, (totals.get(journal.movement.currency) ?? 0n) + journal.inTransit);
    }
    response.json({
      totals: Object.fromEntries([...totals].map(([currency, amount]) => [currency, formatMinorUnits(amount)])),
      movements: open.map((journal) => journalView(journal, now)),
    });
  });

  router.get('/v1/operations/stuck-movements', (_request, response) => {
    const now = deps.clock().getTime();
    response.json({
      movements: deps.recovery.stuck().map((journal) => ({ ...journalView(journal, now), running: journal.running })),
    });
  });

  return router;
};
