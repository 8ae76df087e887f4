import { z } from 'zod';
import type { EventToAppend, RecordedEvent } from '../../src/eventStore/eventStore.js';
import { bigintString, createEventCatalog, defineEvent } from '../../src/events/index.js';
import { snowflakeIdSchema } from '../../src/ids/index.js';

/**
 * SampleDeposited v1 stored `{ accountId, amount: number }` (minor units); v2 stores the amount
 * as a decimal string, to hold any size exactly, and adds the currency, which v1 only knew as USD.
 */
export const sampleDeposited = defineEvent({
  type: 'SampleDeposited',
  version: 2,
  schema: z.object({
    accountId: snowflakeIdSchema,
    amount: bigintString.refine((amount) => amount > 0n, { error: 'must be positive' }),
    currency: z.string().regex(/^[A-Z]{3}$/),
  }),
  upcasters: {
    1: (data) => {
      const { amount } = data;
      if (typeof amount !== 'number' || !Number.isSafeInteger(amount)) {
        throw new Error(`v1 amount ${JSON.stringify(amount)} is not a whole number of minor units`);
      }
      return { ...data, amount: String(amount), currency: 'USD' };
    },
  },
});

export const sampleClosed = defineEvent({
  type: 'SampleClosed',
  version: 1,
  schema: z.object({ reason: z.string().min(1), closedBy: z.string().optional() }),
});

export const sampleCatalog = createEventCatalog([sampleDeposited, sampleClosed]);

export const EVENT_ID = '0b6f2f4e-7d4c-4a53-9a0e-5a3e8f6d2c11';
export const OTHER_EVENT_ID = '6a0f3b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';

export const baseMetadata = {
  $correlationId: 'corr-1',
  $causationId: 'cmd-1',
  actor: 'user:alice',
  occurredAt: '2025-03-14T09:30:00.000Z',
} as const;

/** What a store gives back for an append: the JSON round trip included. */
export const recordedFrom = (
  event: Pick<EventToAppend, 'id' | 'type' | 'data' | 'metadata'>,
  streamName = 'sample-1',
): RecordedEvent => ({
  streamName,
  id: event.id,
  type: event.type,
  revision: 0n,
  position: 100n,
  created: new Date(Date.UTC(2025, 2, 14, 9, 30, 1)),
  data: JSON.parse(JSON.stringify(event.data)) as RecordedEvent['data'],
  metadata:
    event.metadata === undefined ? undefined : (JSON.parse(JSON.stringify(event.metadata)) as RecordedEvent['data']),
});
