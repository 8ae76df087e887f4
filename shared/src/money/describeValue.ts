/** Longest stretch of caller input echoed in an error message, so a huge input cannot bloat logs. */
const MAX_ECHOED_CHARS = 40;

/** How a rejected input is named in an error message: quoted and cut short if text, by kind otherwise. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_ECHOED_CHARS
        ? `${JSON.stringify(value.slice(0, MAX_ECHOED_CHARS))}… (${value.length} characters)`
        : JSON.stringify(value);
    case 'number':
      return `the number ${String(value)}`;
    case 'bigint': {
      const digits = value.toString();
      return digits.length > MAX_ECHOED_CHARS
        ? `a bigint of ${digits.length} characters`
        : `the bigint ${digits}n`;
    }
    case 'boolean':
      return `the boolean ${value}`;
    case 'undefined':
      return 'undefined';
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
    default:
      return `a ${typeof value}`;
  }
}
