import { depositFailed, journalFailed, transferFailed } from './movementEvents.js';

/**
 * Events that record a movement ended by compensation: a first leg was posted, a later one was
 * refused, and a reversal posting gave the money back. Operations watch their rate.
 */
export const compensationEventTypes: ReadonlySet<string> = new Set([transferFailed.type, depositFailed.type, journalFailed.type]);
