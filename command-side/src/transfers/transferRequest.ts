import {
  accountIdSchema,
  amountSchema,
  currencySchema,
  descriptionSchema,
  metadataSchema,
  referenceSchema,
} from '@folio/shared';
import { z } from 'zod';

/** The body of `POST /v1/transfers`, and of each item of a batch. */
export const transferRequestSchema = z
  .strictObject({
    fromAccountId: accountIdSchema,
    toAccountId: accountIdSchema,
    amount: amountSchema,
    currency: currencySchema,
    reference: referenceSchema.optional(),
    description: descriptionSchema.optional(),
    metadata: metadataSchema.optional(),
  })
  .refine((transfer) => transfer.fromAccountId !== transfer.toAccountId, {
    path: ['toAccountId'],
    error: 'a transfer needs two different accounts',
  });

export type TransferRequest = z.output<typeof transferRequestSchema>;
