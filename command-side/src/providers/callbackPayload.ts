import {
  currencySchema,
  nonNegativeMinorUnitsSchema,
  parseRequest,
  paymentCallbackTypes,
  payoutCallbackTypes,
  snowflakeIdSchema,
} from '@folio/shared';
import { z } from 'zod';

/**
 * A provider's time, written with `Z` or with an offset (both are ISO 8601, and a refused callback
 * is not redelivered): recorded in UTC, as every time in the log.
 */
const providerTimeSchema = z.iso.datetime({ offset: true }).transform((text, ctx) => {
  const utc = new Date(text).toISOString();
  if (!/^\d{4}-/.test(utc)) {
    ctx.addIssue({ code: 'custom', message: 'expected a time within the years 0000 to 9999 in UTC' });
    return z.NEVER;
  }
  return utc;
});

/**
 * The callback every provider adapter speaks (the sandbox sends it as is; an adapter for a real
 * provider maps its own format to it). `reference` is the provider's reference of the payment or
 * payout; `folioId` is Folio's id, passed to the provider as metadata at submission, so a callback
 * that overtakes the submission can still find its payment.
 */
export const callbackPayloadSchema = z.strictObject({
  id: z.string().min(1).max(255),
  type: z.enum([...paymentCallbackTypes, ...payoutCallbackTypes]),
  createdAt: providerTimeSchema,
  data: z.strictObject({
    reference: z.string().min(1).max(255),
    folioId: snowflakeIdSchema.optional(),
    amount: nonNegativeMinorUnitsSchema.optional(),
    currency: currencySchema.optional(),
    fee: nonNegativeMinorUnitsSchema.optional(),
    reason: z.string().max(500).optional(),
    refundReference: z.string().min(1).max(255).optional(),
  }),
});

export type CallbackPayload = z.output<typeof callbackPayloadSchema>;

/** The wire form, as a provider (or the sandbox) writes it: amounts as strings of digits. */
export type CallbackPayloadWire = z.input<typeof callbackPayloadSchema>;

export const parseCallbackPayload = (value: unknown): CallbackPayload => parseRequest(callbackPayloadSchema, value, 'body');
