/**
 * Validation of request parts with zod, failing with a `ValidationError` that lists each bad
 * field by its path from the request part: `body.amount`, `body.transfers.3.amount`, `query.limit`.
 *
 * Build body and query schemas with `z.strictObject` (and wire schemas from `wireSchemas.ts`), so
 * an unknown field, often a misspelt optional one, is rejected rather than silently ignored.
 */
import type { z } from 'zod';
import { ValidationError } from '../errors/folioError.js';
import { describeValue } from '../money/describeValue.js';

export type RequestPart = 'body' | 'query' | 'params';

export interface ValidationIssue {
  path: string;
  message: string;
}

/** Issues quoted in the error's message; the problem document lists them all. */
const ISSUES_IN_SUMMARY = 3;

function toIssues(issue: z.core.$ZodIssue, where: RequestPart): ValidationIssue[] {
  const at = [where, ...issue.path.map(String)];
  switch (issue.code) {
    case 'unrecognized_keys':
      // One issue per key, so the path names the field the caller should remove.
      return issue.keys.map((key) => ({
        path: [...at, key].join('.'),
        message: `unknown field ${describeValue(key)}: not accepted here`,
      }));
    case 'invalid_key':
      return [{ path: at.join('.'), message: `invalid key: ${issue.issues.map((inner) => inner.message).join('; ')}` }];
    case 'invalid_type':
      if (issue.input === undefined) return [{ path: at.join('.'), message: 'required' }];
      return [{ path: at.join('.'), message: issue.message }];
    default:
      return [{ path: at.join('.'), message: issue.message }];
  }
}

function summarise(where: RequestPart, issues: readonly ValidationIssue[]): string {
  const quoted = issues.slice(0, ISSUES_IN_SUMMARY).map(({ path, message }) => `${path}: ${message}`);
  const more = issues.length - quoted.length;
  return `invalid request ${where}: ${quoted.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

/** `value` parsed by `schema`, or a `ValidationError` naming every bad field of the request part. */
export function parseRequest<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  where: RequestPart,
): z.output<Schema> {
  // The input is reported only so that a missing field can be told from a mistyped one.
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap((issue) => toIssues(issue, where));
  throw new ValidationError(summarise(where, issues), issues);
}
