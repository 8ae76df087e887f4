/**
 * The write API over HTTP, as the demo drives it: every money-moving request carries a fresh
 * idempotency key, and answers are checked with zod before the demo trusts them.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

const accountAnswer = z.object({ id: z.string(), currency: z.string() });
const movementAnswer = z.object({ id: z.string(), status: z.enum(['completed', 'failed', 'in_transit']), position: z.string() });
const paymentAnswer = z.object({ id: z.string(), state: z.string(), position: z.string() });
const problemAnswer = z.object({ type: z.string(), detail: z.string().optional() });

export interface TransferRequest {
  fromAccountId: string;
  toAccountId: string;
  amount: bigint;
  currency: string;
  reference: string;
  description: string;
  metadata: Record<string, string>;
}

export interface PaymentRequest {
  merchantAccountId: string;
  amount: bigint;
  currency: string;
  provider: string;
  description: string;
  customerRef: string;
}

/** A request the write API refused on business grounds (insufficient funds, a frozen source…). */
export class RefusedError extends Error {
  constructor(
    readonly status: number,
    readonly problemType: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** `apiKey`: an admin key (the demo opens accounts for many holders and deposits for them). */
export const createWriteClient = (baseUrl: string, apiKey: string | undefined) => {
  const post = async <T>(path: string, body: unknown, schema: z.ZodType<T>, idempotent: boolean): Promise<T> => {
    const response = await fetch(new URL(path, baseUrl), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(apiKey === undefined ? {} : { Authorization: `Bearer ${apiKey}` }),
        ...(idempotent ? { 'Idempotency-Key': randomUUID() } : {}),
      },
      body: JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
    });
    const answer: unknown = await response.json();
    if (response.status >= 400 && response.status < 500) {
      const problem = problemAnswer.parse(answer);
      throw new RefusedError(response.status, problem.type, problem.detail ?? problem.type);
    }
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(answer)}`);
    return schema.parse(answer);
  };

  return {
    /** Resolves when the server answers its health check; says how to start it otherwise. */
    async ready(): Promise<void> {
      try {
        const response = await fetch(new URL('/healthz', baseUrl));
        if (response.ok) return;
        throw new Error(`it answered ${response.status}`);
      } catch (error) {
        throw new Error(`Folio is not reachable at ${baseUrl} (${(error as Error).message}): start it with \`npm start\` first`);
      }
    },
    openAccount: (ownerId: string, currency: string, kind: 'customer' | 'merchant') =>
      post('/v1/accounts', { ownerId, currency, kind }, accountAnswer, false),
    freeze: (accountId: string, reason: string) => post(`/v1/accounts/${accountId}/freeze`, { reason }, accountAnswer.pick({ id: true }), false),
    unfreeze: (accountId: string) => post(`/v1/accounts/${accountId}/unfreeze`, {}, accountAnswer.pick({ id: true }), false),
    deposit: (accountId: string, amount: bigint, currency: string, reference: string) =>
      post('/v1/deposits', { accountId, amount, currency, reference }, movementAnswer, true),
    transfer: (request: TransferRequest) => post('/v1/transfers', request, movementAnswer, true),
    createPayment: (request: PaymentRequest) => post('/v1/payments', request, paymentAnswer, true),
    /** Hands the payment to its provider, whose callbacks then capture, settle or fail it. */
    submitPayment: (paymentId: string) => post(`/v1/payments/${paymentId}/submit`, {}, paymentAnswer, true),
  };
};

export type WriteClient = ReturnType<typeof createWriteClient>;
