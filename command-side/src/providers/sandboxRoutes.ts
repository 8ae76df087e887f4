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
  withPayoutRow: z.enum(['true', 'false']).optional(),
});

const count = z.coerce.number().int().min(0).max(1000).optional();

const bankStatementQuerySchema = z.strictObject({
  skippedStatements: count,
  /** Minor units, as a string of digits with an optional sign. */
  closingBalanceSkew: z.string().regex(/^-?\d{1,18}$/, { error: 'minor units: an integer, e.g. 100 or -100' }).optional(),
});

/**
 * `GET /v1/providers/{provider}/sandbox/settlement-report`: what the sandbox standing in for
 * `provider` settled, as a Stripe itemized report (CSV), with faults on request, and
 * `GET /v1/providers/{provider}/sandbox/bank-statement`: the camt.053 statement of the bank
 * account its payouts went to, to feed reconciliation in tests and demos.
 */
export const sandboxRoutes = (sandboxOf: (provider: string) => SandboxProvider | undefined): Router => {
  const router = Router();
  const sandboxFor = (name: unknown): SandboxProvider => {
    const provider = providerSchema.safeParse(name);
    const sandbox = provider.success ? sandboxOf(provider.data) : undefined;
    if (sandbox === undefined) throw new NotFoundError('sandbox provider', String(name));
    return sandbox;
  };
  router.get('/v1/providers/:provider/sandbox/settlement-report', (request, response) => {
    const sandbox = sandboxFor(request.params.provider);
    const { payoutId, withPayoutRow, ...faults } = parseRequest(reportQuerySchema, request.query, 'query');
    const defined = Object.fromEntries(Object.entries(faults).filter(([, value]) => value !== undefined));
    response
      .type('text/csv')
      .send(sandbox.settlementReport({ payoutId: payoutId ?? 'po_sbx_settlement', faults: defined, withPayoutRow: withPayoutRow === 'true' }));
  });
  router.get('/v1/providers/:provider/sandbox/bank-statement', (request, response) => {
    const sandbox = sandboxFor(request.params.provider);
    const query = parseRequest(bankStatementQuerySchema, request.query, 'query');
    const faults = {
      ...(query.skippedStatements === undefined ? {} : { skippedStatements: query.skippedStatements }),
      ...(query.closingBalanceSkew === undefined ? {} : { closingBalanceSkew: BigInt(query.closingBalanceSkew) }),
    };
    response.type('application/xml').send(sandbox.bankStatement({ faults }));
  });
  return router;
};
