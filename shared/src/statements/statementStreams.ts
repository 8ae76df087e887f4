import { createHash } from 'node:crypto';

/**
 * Stream names of imported statements. A file's stream is named by its content hash, so the same
 * bytes always land on the same stream and a second import finds the first. A row's stream is
 * named by a hash of its identity, since provider row keys are long and may hold any character.
 */
export const STATEMENT_STREAM_PREFIX = 'statement-';
export const STATEMENT_ROW_STREAM_PREFIX = 'statementrow-';

export const statementFileStream = (provider: string, fileHash: string): string =>
  `${STATEMENT_STREAM_PREFIX}${provider}-${fileHash}`;

export const statementRowStream = (provider: string, rowKey: string): string =>
  `${STATEMENT_ROW_STREAM_PREFIX}${provider}-${createHash('sha256').update(rowKey, 'utf8').digest('hex').slice(0, 32)}`;
