import { createHash } from 'node:crypto';
import {
  StreamNotFoundError,
  ValidationError,
  WrongExpectedRevisionError,
  createEnvelope,
  deterministicEventId,
  statementCatalog,
  statementFileStream,
  statementImported,
  statementProviderSchema,
  statementRowDuplicated,
  statementRowRecorded,
  statementRowRedelivered,
  statementRowRestated,
  statementInfoSchema,
  statementRowSchema,
  statementRowStream,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type GlobalPosition,
  type StatementEvent,
  type StatementFormat,
  type StatementInfo,
  type StatementRow,
} from '@folio/shared';
import type { z } from 'zod';
import { forEachConcurrently } from './boundedConcurrency.js';
import { canonicalJson } from './canonicalJson.js';
import { StatementIssues } from './importers/malformedStatementError.js';
import type { ParsedRow, ParsedStatementInfo } from './importers/parsedStatement.js';
import { chooseImporter } from './importers/statementImporters.js';
import { decodeStatementText } from './importers/statementText.js';

export type StatementImportSummary = z.output<typeof statementImported.schema>;

export interface StatementImportRequest {
  provider: string;
  /** One of the statement formats; the provider's usual one when left out. */
  format?: string | undefined;
  /** The column mapping of a generic CSV (an object or its JSON text). */
  mapping?: unknown;
  fileName?: string | undefined;
  /** The file's bytes, as they arrive. */
  content: AsyncIterable<Uint8Array>;
}

export interface StatementImportContext {
  correlationId: string;
  actor: string;
  now: Date;
}

export interface StatementImportResult {
  /** True when the same file had been imported before: nothing was written this time. */
  alreadyImported: boolean;
  summary: StatementImportSummary;
  /** Global position of the file's `StatementImported`. */
  position: GlobalPosition;
}

export interface StatementImportServiceOptions {
  eventStore: EventStore;
  /** Row streams read and written at once. */
  concurrency?: number;
}

/** A row with what identifies its version. */
interface VersionedRow extends ParsedRow {
  versionHash: string;
}

/** A row's first occurrence in the file, and the occurrences of its identity after it. */
interface RowGroup {
  row: VersionedRow;
  repeats: VersionedRow[];
}

type RowOutcome = 'recorded' | 'restated' | 'unchanged';

type RowEvent = Extract<StatementEvent, { type: 'StatementRowRecorded' | 'StatementRowRestated' }>;

/** The events after which a row's repeats are those of the event's file. */
const deliveryTypes: ReadonlySet<StatementEvent['type']> = new Set(['StatementRowRecorded', 'StatementRowRestated', 'StatementRowRedelivered']);

/** Attempts at a row whose stream another import moved meanwhile. */
const MAX_ROW_ATTEMPTS = 5;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The row's content without its line: a row moved to another line of another file is the same version. */
const versionHashOf = (row: StatementRow): string => {
  const { line: _line, ...content } = statementRowSchema.encode(row);
  return sha256(canonicalJson(content));
};

const changedFields = (previous: StatementRow, next: StatementRow): string[] => {
  const before = statementRowSchema.encode(previous) as Record<string, unknown>;
  const after = statementRowSchema.encode(next) as Record<string, unknown>;
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => key !== 'line' && canonicalJson(before[key]) !== canonicalJson(after[key]))
    .sort();
};

/** Groups the file's rows by identity: one seen again in the same file is a repeat, recorded beside the first occurrence. */
const groupByIdentity = (rows: readonly ParsedRow[]): RowGroup[] => {
  const groups = new Map<string, RowGroup>();
  for (const parsed of rows) {
    const row = { ...parsed, versionHash: versionHashOf(parsed.row) };
    const group = groups.get(row.rowKey);
    if (group === undefined) groups.set(row.rowKey, { row, repeats: [] });
    else group.repeats.push(row);
  }
  return [...groups.values()];
};

/** Repeats compared by content only: the same rows on other lines repeat the row alike. */
const sameRepeats = (left: readonly string[], right: readonly string[]): boolean =>
  canonicalJson([...left].sort()) === canonicalJson([...right].sort());

const optionalAccount = (account: string | undefined) => (account === undefined ? {} : { account });

/** Per statement and currency: the count of its rows and the sums of its credits and debits. */
const withRowTotals = (statements: readonly ParsedStatementInfo[], rows: readonly ParsedRow[]): StatementInfo[] =>
  statements.map((statement) => {
    const totals = new Map<string, StatementInfo['rowTotals'][number]>();
    for (const { statementId, row } of rows) {
      const money = row.net ?? row.gross;
      if (statementId !== statement.statementId || money === undefined) continue;
      const total = totals.get(money.currency) ?? { currency: money.currency, count: 0, credits: 0n, debits: 0n };
      total.count += 1;
      if (money.amount > 0n) total.credits += money.amount;
      else total.debits -= money.amount;
      totals.set(money.currency, total);
    }
    return { ...statement, rowTotals: [...totals.values()] };
  });

/**
 * Imports statement files into the log. The whole file is read and validated before anything is
 * written, so a malformed file leaves no trace. Then every row goes to its own stream, keyed by
 * the row's identity: a row seen for the first time is recorded, a row whose content changed is
 * restated (the stream keeps every version), a row delivered again unchanged writes nothing unless
 * the file repeats it otherwise than the stream last said, and a file's repeats follow its row. Each
 * row stream is written with its expected revision, so two imports racing on one row cannot both
 * restate it from the same version. Last, `StatementImported` goes to the file's stream, named by
 * the file's SHA-256: importing the same bytes again finds it and answers the first import's
 * result. An import interrupted before that last append is completed by importing the file again,
 * since every event's id is derived from the file and the row.
 */
export const createStatementImportService = ({ eventStore, concurrency = 16 }: StatementImportServiceOptions) => {
  const readStream = async (streamName: string) => {
    const events: { event: StatementEvent; revision: bigint; position: GlobalPosition }[] = [];
    try {
      for await (const recorded of eventStore.readStream(streamName)) {
        events.push({ event: statementCatalog.decode(recorded), revision: recorded.revision, position: recorded.position });
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return events;
  };

  /** The file's import, when it was completed before. */
  const find = async (provider: string, fileHash: string): Promise<{ summary: StatementImportSummary; position: GlobalPosition } | undefined> => {
    const [first] = await readStream(statementFileStream(provider, fileHash));
    if (first === undefined || first.event.type !== 'StatementImported') return undefined;
    return { summary: first.event.data, position: first.position };
  };

  /**
   * The rows under the keys they are imported by. A statement some of whose rows carry the key the
   * previous version gave them by their place was imported by that version when the log holds any
   * of those keys (all are looked up, as a statement sent again in another order may put its first
   * such row where none stood): its rows keep those keys, as they did then. Otherwise they take the
   * keys their importer gives them now, which no positional key can equal.
   */
  const withKeysOfImportsBefore = async (provider: string, rows: readonly ParsedRow[]): Promise<ParsedRow[]> => {
    const importedBefore = new Set<string>();
    const positional = rows.flatMap((row) => (row.positional === undefined ? [] : [row.positional]));
    await forEachConcurrently(positional, concurrency, async ({ statement, rowKey }) => {
      if (importedBefore.has(statement)) return;
      if ((await readStream(statementRowStream(provider, rowKey))).length > 0) importedBefore.add(statement);
    });
    return rows.map(({ positional: previous, ...row }) =>
      previous !== undefined && importedBefore.has(previous.statement) ? { ...row, rowKey: previous.rowKey } : row,
    );
  };

  const importStatement = async (request: StatementImportRequest, context: StatementImportContext): Promise<StatementImportResult> => {
    const provider = statementProviderSchema.safeParse(request.provider);
    if (!provider.success) {
      throw new ValidationError(`invalid provider: ${provider.error.issues[0]?.message}`, [
        { path: 'provider', message: provider.error.issues[0]?.message ?? 'invalid' },
      ]);
    }
    const importer = chooseImporter({ provider: provider.data, format: request.format, mapping: request.mapping });
    const format: StatementFormat = importer.format;

    const hash = createHash('sha256');
    let byteLength = 0;
    const counted = async function* () {
      for await (const chunk of request.content) {
        hash.update(chunk);
        byteLength += chunk.length;
        yield chunk;
      }
    };
    const rows: ParsedRow[] = [];
    const statements: ParsedStatementInfo[] = [];
    // Every row, whatever its format, also passes the schema its event will be written with.
    const issues = new StatementIssues(format);
    for await (const item of importer.parse(decodeStatementText(counted(), format))) {
      if (item.kind === 'statement') {
        statements.push(item.statement);
        continue;
      }
      const checked = statementRowSchema.safeEncode(item.row.row);
      if (checked.success) rows.push(item.row);
      else issues.addZodIssues(item.row.row.line, checked.error);
    }
    // The statements' own facts go into the file's last event: checked now too, so a file that
    // would fail there writes no row first (its rows would stay without it for good).
    for (const statement of withRowTotals(statements, rows)) {
      const checked = statementInfoSchema.safeEncode(statement);
      if (checked.success) continue;
      const line = rows.find((row) => row.statementId === statement.statementId)?.row.line ?? 1;
      for (const issue of checked.error.issues) {
        issues.add({ line, reason: `statement ${statement.statementId}: ${issue.path.join('.')}: ${issue.message}` });
      }
    }
    issues.throwIfAny();
    const fileHash = hash.digest('hex');

    const earlier = await find(provider.data, fileHash);
    if (earlier !== undefined) return { alreadyImported: true, ...earlier };

    const metadata: EventMetadata = { $correlationId: context.correlationId, actor: context.actor, occurredAt: context.now.toISOString() };
    const accounts = new Map(statements.flatMap(({ statementId, account }) => (account === undefined ? [] : [[statementId, account] as const])));
    const base = (row: VersionedRow) => ({
      provider: provider.data,
      format,
      fileHash,
      ...(row.statementId === undefined ? {} : { statementId: row.statementId }),
      ...optionalAccount(row.statementId === undefined ? undefined : accounts.get(row.statementId)),
      rowKey: row.rowKey,
      versionHash: row.versionHash,
      row: row.row,
    });

    const outcomes: Record<RowOutcome, number> = { recorded: 0, restated: 0, unchanged: 0 };
    let duplicated = 0;

    const importRow = async ({ row, repeats }: RowGroup) => {
      const streamName = statementRowStream(provider.data, row.rowKey);
      for (let attempt = 1; ; attempt += 1) {
        const history = await readStream(streamName);
        const versions = history.filter((entry): entry is typeof entry & { event: RowEvent } =>
          entry.event.type === 'StatementRowRecorded' || entry.event.type === 'StatementRowRestated',
        );
        const lastDelivery = history.findLastIndex((entry) => deliveryTypes.has(entry.event.type));
        const own = history.find((entry) => deliveryTypes.has(entry.event.type) && entry.event.data.fileHash === fileHash);
        const latest = versions[versions.length - 1];
        // The repeats the row's stream last said its identity has: those of the file that last delivered it.
        const standingRepeats = history.slice(lastDelivery + 1).flatMap(({ event }) => (event.type === 'StatementRowDuplicated' ? [event.data.versionHash] : []));
        const expected: ExpectedRevision = history.length === 0 ? 'no_stream' : history[history.length - 1]!.revision;
        const pending = [];
        let outcome: RowOutcome;
        if (own !== undefined) {
          // An earlier, interrupted import of this very file wrote it, with its repeats.
          outcome = own.event.type === 'StatementRowRecorded' ? 'recorded' : own.event.type === 'StatementRowRestated' ? 'restated' : 'unchanged';
        } else if (latest === undefined) {
          outcome = 'recorded';
          pending.push(
            statementCatalog.encode(
              createEnvelope(statementRowRecorded, {
                id: deterministicEventId('statement-row', provider.data, fileHash, row.rowKey, 'recorded'),
                data: base(row),
                metadata,
              }),
            ),
          );
        } else if (latest.event.data.versionHash === row.versionHash) {
          outcome = 'unchanged';
          if (!sameRepeats(standingRepeats, repeats.map(({ versionHash }) => versionHash))) {
            pending.push(
              statementCatalog.encode(
                createEnvelope(statementRowRedelivered, {
                  id: deterministicEventId('statement-row', provider.data, fileHash, row.rowKey, 'redelivered'),
                  data: { ...base(row), occurrences: repeats.length + 1 },
                  metadata,
                }),
              ),
            );
          }
        } else {
          outcome = 'restated';
          const previous = latest.event.data;
          pending.push(
            statementCatalog.encode(
              createEnvelope(statementRowRestated, {
                id: deterministicEventId('statement-row', provider.data, fileHash, row.rowKey, 'restated'),
                data: {
                  ...base(row),
                  previousVersionHash: previous.versionHash,
                  previousFileHash: previous.fileHash,
                  previous: previous.row,
                  changedFields: changedFields(previous.row, row.row),
                },
                metadata,
              }),
            ),
          );
        }
        // The file's repeats follow its delivery of the row, when it says something the stream did not.
        if (pending.length > 0) {
          pending.push(
            ...repeats.map((repeat, index) =>
              statementCatalog.encode(
                createEnvelope(statementRowDuplicated, {
                  id: deterministicEventId('statement-row', provider.data, fileHash, row.rowKey, 'duplicated', String(index + 1)),
                  data: { ...base(repeat), firstLine: row.row.line, identical: repeat.versionHash === row.versionHash },
                  metadata,
                }),
              ),
            ),
          );
        }
        try {
          if (pending.length > 0) await eventStore.appendToStream(streamName, pending, { expectedRevision: expected });
        } catch (error) {
          if (error instanceof WrongExpectedRevisionError && attempt < MAX_ROW_ATTEMPTS) continue;
          throw error;
        }
        outcomes[outcome] += 1;
        duplicated += repeats.length;
        return;
      }
    };
    await forEachConcurrently(groupByIdentity(await withKeysOfImportsBefore(provider.data, rows)), concurrency, importRow);

    const summary: StatementImportSummary = {
      provider: provider.data,
      format,
      fileHash,
      ...(request.fileName === undefined ? {} : { fileName: request.fileName }),
      byteLength,
      statements: withRowTotals(statements, rows),
      rows: { total: rows.length, ...outcomes, duplicated },
    };
    try {
      const appended = await eventStore.appendToStream(
        statementFileStream(provider.data, fileHash),
        [
          statementCatalog.encode(
            createEnvelope(statementImported, { id: deterministicEventId('statement-imported', provider.data, fileHash), data: summary, metadata }),
          ),
        ],
        { expectedRevision: 'no_stream' },
      );
      return { alreadyImported: false, summary, position: appended.position };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      // The same file was imported at the same time by someone else, and finished first.
      const concurrent = await find(provider.data, fileHash);
      if (concurrent === undefined) throw error;
      return { alreadyImported: true, ...concurrent };
    }
  };

  return { importStatement, find };
};

export type StatementImportService = ReturnType<typeof createStatementImportService>;
