import type { DocumentStore, GlobalPosition } from '@folio/shared';
import { reconciliationProjection, type ServedReadModels } from '@folio/projections';
import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { discrepanciesQuery, discrepancyParams, getDiscrepancy, listDiscrepancies, reconciliationSummary, summaryQuery } from './reconciliationReads.js';

/** How the read API wraps an endpoint: validation, `?position=` waiting, the read position header. */
export type ReadRoute = <P extends z.ZodType, Q extends z.ZodType<{ position?: GlobalPosition | undefined }>>(
  paramsSchema: P,
  querySchema: Q,
  answer: (params: z.output<P>, query: z.output<Q>) => Promise<unknown>,
) => RequestHandler;

/**
 * `GET /v1/reconciliation/summary`, `GET /v1/reconciliation/discrepancies?code=&provider=&status=&cursor=&limit=`
 * and `GET /v1/reconciliation/discrepancies/:id` with its evidence, from the reconciliation read model.
 */
export const mountReconciliationReads = (router: Router, documents: DocumentStore, readModels: ServedReadModels, read: ReadRoute): void => {
  const collections = async () => (await readModels.serving(reconciliationProjection)).collections;
  router.get(
    '/v1/reconciliation/summary',
    read(z.strictObject({}), summaryQuery, async () => reconciliationSummary(documents, await collections())),
  );
  router.get(
    '/v1/reconciliation/discrepancies',
    read(z.strictObject({}), discrepanciesQuery, async (_params, query) => listDiscrepancies(documents, await collections(), query)),
  );
  router.get(
    '/v1/reconciliation/discrepancies/:id',
    read(discrepancyParams, summaryQuery, async ({ id }) => getDiscrepancy(documents, await collections(), id)),
  );
};
