/**
 * Zod schemas for the query parameters the read API shares. Query values arrive as strings (or
 * arrays when repeated, which these refuse), so each schema states the one spelling it accepts
 * and says so in its message.
 */
import { z } from 'zod';

/** The largest global position any event store hands out (a signed 64-bit integer). */
const MAX_POSITION = 2n ** 63n - 1n;

/** A write's `position`, as the write API answers it: a decimal string without sign or leading zeros. */
export const positionSchema = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,18})$/, 'expected a position as the write answered it: decimal digits without sign or leading zeros')
  .transform((text) => BigInt(text))
  .refine((position) => position <= MAX_POSITION, `a position is at most ${MAX_POSITION}`);

/** A page size from 1 to `max`; `undefined` when absent, so each endpoint picks its default. */
export const limitSchema = (max: number) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,5}$/, `expected a whole number from 1 to ${max}`)
    .transform((text) => Number(text))
    .refine((limit) => limit <= max, `expected a whole number from 1 to ${max}`);

/** Long enough for any cursor this API issues, short enough to refuse junk before decoding it. */
export const cursorSchema = z.string().min(1, 'must not be empty: omit it for the first page').max(2048, 'not a cursor this API issued');

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

const EXPECTED_INSTANT =
  'expected an ISO-8601 timestamp with a zone, such as 2026-05-01T12:00:00Z or 2026-05-01T14:00:00+02:00, or a date such as 2026-05-01';

/**
 * Milliseconds since the epoch of a timestamp with a zone (`Z` or `±hh:mm`), or of a date alone:
 * its first millisecond in UTC, or its last one when `endOfDay` (so a date range includes the
 * whole of its last day). `undefined` for anything else, dates that do not exist included
 * (`Date` would roll February 30th over into March).
 */
const parseInstant = (text: string, endOfDay: boolean): number | undefined => {
  const match = INSTANT.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  const dateOnly = hour === undefined;
  const parts = [
    Number(year),
    Number(month) - 1,
    Number(day),
    dateOnly ? (endOfDay ? 23 : 0) : Number(hour),
    dateOnly ? (endOfDay ? 59 : 0) : Number(minute),
    dateOnly ? (endOfDay ? 59 : 0) : Number(second ?? 0),
    dateOnly ? (endOfDay ? 999 : 0) : Number((fraction ?? '').padEnd(3, '0')),
  ] as const;
  const local = new Date(0);
  local.setUTCFullYear(parts[0], parts[1], parts[2]);
  local.setUTCHours(parts[3], parts[4], parts[5], parts[6]);
  const roundTrip = [
    local.getUTCFullYear(),
    local.getUTCMonth(),
    local.getUTCDate(),
    local.getUTCHours(),
    local.getUTCMinutes(),
    local.getUTCSeconds(),
    local.getUTCMilliseconds(),
  ];
  if (roundTrip.some((value, i) => value !== parts[i])) return undefined;
  if (zone === undefined || zone === 'Z') return local.getTime();
  const offsetHours = Number(zone.slice(1, 3));
  const offsetMinutes = Number(zone.slice(4, 6));
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offset = (offsetHours * 60 + offsetMinutes) * 60_000;
  return local.getTime() - (zone.startsWith('-') ? -offset : offset);
};

/**
 * A timestamp bound, normalised to the search port's form (UTC, milliseconds:
 * `2026-05-01T12:00:00.000Z`). `endOfDay` makes a date alone mean its last millisecond.
 */
export const instantSchema = (endOfDay: boolean) =>
  z.string().transform((text, ctx) => {
    const millis = parseInstant(text, endOfDay);
    const normalised = millis === undefined ? undefined : new Date(millis).toISOString();
    // An offset can carry year 0000 or 9999 across the four-digit years the stores accept.
    if (normalised === undefined || !/^\d{4}-/.test(normalised)) {
      // A query string reads `+` as a space: `+02:00` typed into a URL arrives as ` 02:00`.
      const plusAsSpace = text.includes(' ') && parseInstant(text.replace(' ', '+'), endOfDay) !== undefined;
      const expected = plusAsSpace
        ? `the "+" of its offset arrived as a space: write it as %2B in the URL, such as ${text.replace(' ', '%2B')}`
        : EXPECTED_INSTANT;
      ctx.issues.push({ code: 'custom', message: `${JSON.stringify(text)} is not a valid timestamp: ${expected}`, input: text });
      return z.NEVER;
    }
    return normalised;
  });
