/**
 * A statement row's date-time written without an offset is a wall-clock time in the zone its file
 * names (Adyen's `TimeZone`, `CET`): read as UTC it would be off by the zone's offset, enough to put
 * a row on the wrong side of the rules' date window. Node's Intl knows the IANA zones.
 */

const formatters = new Map<string, Intl.DateTimeFormat | undefined>();

/** A formatter of wall-clock times in `timeZone`, or none for a zone Intl does not know. */
const formatterOf = (timeZone: string): Intl.DateTimeFormat | undefined => {
  if (!formatters.has(timeZone)) {
    let formatter: Intl.DateTimeFormat | undefined;
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      formatter = undefined;
    }
    formatters.set(timeZone, formatter);
  }
  return formatters.get(timeZone);
};

/** How far the zone's wall clock is ahead of UTC at `instant` (whole seconds). */
const offsetAt = (formatter: Intl.DateTimeFormat, instant: number): number => {
  const part = (parts: Intl.DateTimeFormatPart[], type: Intl.DateTimeFormatPartTypes) => Number(parts.find((found) => found.type === type)!.value);
  const parts = formatter.formatToParts(new Date(instant));
  const wall = Date.UTC(part(parts, 'year'), part(parts, 'month') - 1, part(parts, 'day'), part(parts, 'hour'), part(parts, 'minute'), part(parts, 'second'));
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
};

/**
 * The date as an ISO instant (UTC) when it is a date-time without an offset and `timeZone` is a zone
 * Intl knows; otherwise as given (a date, a date-time with its offset, or a zone it cannot read,
 * which stays read as UTC).
 */
export const inTimeZone = (date: string, timeZone: string | undefined): string => {
  if (timeZone === undefined || date.length === 10 || /(Z|[+-]\d{2}:\d{2})$/.test(date)) return date;
  const formatter = formatterOf(timeZone);
  if (formatter === undefined) return date;
  const wall = Date.parse(`${date}Z`);
  // The offset at the first guess, then at the instant it gives: right across a change to or from summer time.
  const guess = wall - offsetAt(formatter, wall);
  return new Date(wall - offsetAt(formatter, guess)).toISOString();
};
