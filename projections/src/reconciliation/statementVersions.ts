/**
 * A statement across the files that deliver it. A bank or provider that corrects a statement sends
 * it again in another file (another hash, often another statement id): that file is the statement's
 * new version, judged in place of the earlier one, as a restated row is.
 */
import type { StatementInfo } from '@folio/shared';
import { openingBalanceOf } from './classification.js';
import type { Context } from './reconciliationContext.js';

/** The subject of a statement as the first file delivering it was judged. */
interface StatementVersion {
  _id: string;
  subject: string;
  /** The file of its latest version, and the statement's id in that file. */
  fileHash: string;
  statementId: string;
}

/**
 * What names a statement whichever file delivers it: its account and currency, its number in the
 * account's sequence and its page, and its period with its opening balance's date (MT940 banks give
 * every day's statement the same number). A statement with no account, or neither a number nor a
 * period, is its file's alone.
 */
const identityOf = (statement: StatementInfo): string | undefined => {
  const openingDate = openingBalanceOf(statement)?.date;
  if (statement.account === undefined) return undefined;
  if (statement.sequenceNumber === undefined && statement.periodStart === undefined && openingDate === undefined) return undefined;
  return JSON.stringify([
    statement.account,
    statement.currency ?? statement.balances[0]?.currency ?? null,
    statement.sequenceNumber?.toString() ?? null,
    statement.pageNumber?.toString() ?? null,
    statement.periodStart ?? null,
    statement.periodEnd ?? null,
    openingDate ?? null,
  ]);
};

/**
 * The subject a statement of a file is judged as: that of the statement's first version, so a
 * corrected version clears or updates what the earlier one found (discrepancy ids follow subjects,
 * and keep their workflow). Two statements alike within one file are each their own.
 */
export const statementSubjectIdOf = async (context: Context, provider: string, fileHash: string, statement: StatementInfo): Promise<string> => {
  const own = `statement:${provider}:${fileHash}:${statement.statementId}`;
  const identity = identityOf(statement);
  if (identity === undefined) return own;
  const lookups = context.collections.lookups!;
  const id = `statement-version:${provider}:${identity}`;
  const version = await context.docs.get<StatementVersion>(lookups, id);
  const { statementId } = statement;
  if (version === undefined) {
    context.docs.put(lookups, { _id: id, subject: own, fileHash, statementId });
    return own;
  }
  if (version.fileHash === fileHash) return version.statementId === statementId ? version.subject : own;
  context.docs.put(lookups, { ...version, fileHash, statementId });
  return version.subject;
};
