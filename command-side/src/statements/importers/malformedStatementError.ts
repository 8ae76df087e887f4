import { UnprocessableError, type StatementFormat } from '@folio/shared';
import type { z } from 'zod';

/** Where a statement file breaks its format, and why. */
export interface StatementIssue {
  /** 1-based line of the file. */
  line: number;
  /** The column (CSV header name), element (camt.053) or tag (MT940) at fault, when there is one. */
  column?: string;
  reason: string;
}

/** Issues listed in the error; a file broken on every row would otherwise give a huge answer. */
export const MAX_LISTED_ISSUES = 20;

const describeIssue = ({ line, column, reason }: StatementIssue): string =>
  `line ${line}${column === undefined ? '' : `, ${JSON.stringify(column)}`}: ${reason}`;

/** The file does not follow its format; nothing of it was imported. */
export class MalformedStatementError extends UnprocessableError {
  readonly issues: readonly StatementIssue[];

  constructor(
    readonly format: StatementFormat,
    issues: readonly StatementIssue[],
    /** How many issues were found, listed or not. */
    readonly issueCount: number = issues.length,
  ) {
    const first = issues[0];
    const more = issueCount > 1 ? ` (and ${issueCount - 1} more)` : '';
    super(`the ${format} file is malformed: ${first === undefined ? 'no detail' : describeIssue(first)}${more}; nothing was imported`, {
      type: 'malformed-statement',
    });
    this.issues = issues.slice(0, MAX_LISTED_ISSUES);
  }

  /** The first issue: the one a reader fixes first. */
  get line(): number | undefined {
    return this.issues[0]?.line;
  }

  override problemExtensions(): Record<string, unknown> {
    const first = this.issues[0];
    return {
      format: this.format,
      ...(first === undefined ? {} : { line: first.line, ...(first.column === undefined ? {} : { column: first.column }), reason: first.reason }),
      issues: this.issues.map((issue) => ({ ...issue })),
      issueCount: this.issueCount,
    };
  }
}

/**
 * Gathers the row-level issues of a file, so the rejection lists every bad row (up to a limit)
 * instead of only the first; structural problems are thrown at once with `fail`.
 */
export class StatementIssues {
  private readonly listed: StatementIssue[] = [];
  private count = 0;

  constructor(readonly format: StatementFormat) {}

  add(issue: StatementIssue): void {
    this.count += 1;
    if (this.listed.length < MAX_LISTED_ISSUES) this.listed.push(issue);
  }

  /** zod issues of a record whose paths start with the column name. */
  addZodIssues(line: number, error: z.ZodError): void {
    for (const issue of error.issues) {
      const column = issue.path[0];
      this.add({ line, ...(column === undefined ? {} : { column: String(column) }), reason: issue.message });
    }
  }

  get size(): number {
    return this.count;
  }

  fail(issue: StatementIssue): never {
    this.add(issue);
    throw new MalformedStatementError(this.format, this.listed, this.count);
  }

  throwIfAny(): void {
    if (this.count > 0) throw new MalformedStatementError(this.format, this.listed, this.count);
  }
}
