import { createHash } from 'node:crypto';
import {
  createEnvelope,
  deterministicEventId,
  statementCatalog,
  statementRowRecorded,
  statementRowSchema,
  statementRowStream,
  type EventStore,
  type StatementFormat,
} from '@folio/shared';
import { canonicalJson } from '../../src/statements/canonicalJson.js';
import type { ParsedRow } from '../../src/statements/importers/parsedStatement.js';
import { parseStatement } from './statementSamples.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Writes a file's rows as the previous version imported it, each recorded under the key `keyOf`
 * gives it (the previous version's key for the row at that index of the file).
 */
export const recordAsPreviousVersion = async (
  store: EventStore,
  file: { provider: string; format: StatementFormat; account: string; text: string },
  keyOf: (row: ParsedRow, index: number) => string,
): Promise<void> => {
  const { rows } = await parseStatement({ provider: file.provider, format: file.format }, { text: file.text });
  const fileHash = sha256(file.text);
  for (const [index, parsed] of rows.entries()) {
    const rowKey = keyOf(parsed, index);
    const { line: _line, ...content } = statementRowSchema.encode(parsed.row);
    const data = {
      provider: file.provider,
      format: file.format,
      fileHash,
      ...(parsed.statementId === undefined ? {} : { statementId: parsed.statementId }),
      account: file.account,
      rowKey,
      versionHash: sha256(canonicalJson(content)),
      row: parsed.row,
    };
    const id = deterministicEventId('statement-row', file.provider, fileHash, rowKey, 'recorded');
    const metadata = { $correlationId: 'previous-version', actor: 'finance-ops', occurredAt: '2024-06-04T08:00:00.000Z' };
    await store.appendToStream(statementRowStream(file.provider, rowKey), [statementCatalog.encode(createEnvelope(statementRowRecorded, { id, data, metadata }))], {
      expectedRevision: 'no_stream',
    });
  }
};
