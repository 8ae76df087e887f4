import type { Answer } from './httpCall.js';

/** One request of the load: what is sent, and whether its answer is one the ledger may give. */
export interface Operation {
  kind: string;
  method: 'POST' | 'GET';
  path: string;
  body?: unknown;
  key?: string;
  /** A reason when the answer is not one the state of the accounts explains. */
  judge(answer: Answer): string | undefined;
  /** The request an answer leads to (a payment created is then submitted). */
  followUp?(answer: Answer): Operation | undefined;
}
