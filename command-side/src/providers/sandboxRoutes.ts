import { NotFoundError, parseRequest, providerSchema, referenceSchema } from '@folio/shared';
import { Router } from 'express';
import { z } from 'zod';
import type { SandboxProvider } from './sandboxProvider.js';

const rate = z.coerce.number().min(0).max(1).optional();

const reportQuerySchema = z.strictObject({
  payoutId: referenceSchema.optional(),
  missingRowRate: rate,
  duplicateRowRate: rate,
  amountSkewRate: rate,
  unknownRowRate: rate,
});

/**
 * `GET /v1/providers/{provider}/sandbox/settlement-report`: what the sandbox standing in for
 * `provider` settled, as a Stripe itemized report (CSV), with faults on request, to feed
 * reconciliation in tests and demos.
 */
export const sandboxRoutes = (sandboxOf: (provider: string) => SandboxProvider | undefined): Router => {
  const router = Router();
  router.get('/v1/providers/:provider/sandbox/settlement-report', (request, response) => {
    const provider = providerSchema.safeParse(request.params.provider);
    const sandbox = provider.success ? sandboxOf(provider.data) : undefined;
    if (sandbox === undefined) throw new NotFoundError('sandbox provider', String(request.params.provider));
    const { payoutId, ...faults } = parseRequest(reportQuerySchema, request.query, 'query');
    const defined = Object.fromEntries(Object.entries(faults).filter(([, value]) => value !== undefined));
    response.type('text/csv').send(sandbox.settlementReport({ payoutId: payoutId ?? 'po_sbx_settlement', faults: defined }));
  });
  return router;
};
