/**
 * Exact amounts in the browser: the API sends minor units as strings of digits, and these turn
 * them into decimals of the currency's exponent (and back) by moving digits, never through a
 * float, so 9007199254740993 stays 9007199254740993.
 */

const DIGITS = /^-?(0|[1-9][0-9]*)$/;

/** Groups the integer digits in threes: "1234567" → "1,234,567". */
const group = (digits: string): string => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/**
 * A minor-unit string as a decimal of `exponent` digits after the point, grouped:
 * "123456" with exponent 2 → "1,234.56"; "5" with exponent 3 → "0.005"; "1050" JPY → "1,050".
 */
export const formatMinorUnits = (minorUnits: string, exponent: number): string => {
  if (!DIGITS.test(minorUnits)) throw new TypeError(`not an amount in minor units: ${JSON.stringify(minorUnits)}`);
  const negative = minorUnits.startsWith('-');
  const digits = (negative ? minorUnits.slice(1) : minorUnits).padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${negative ? '-' : ''}${group(whole)}${exponent === 0 ? '' : `.${fraction}`}`;
};

/** An amount as people read it: "1,234.56 EUR". */
export const formatMoney = (minorUnits: string, currency: string, exponent: number): string =>
  `${formatMinorUnits(minorUnits, exponent)} ${currency}`;

export type ParsedAmount = { ok: true; minorUnits: string } | { ok: false; message: string };

/**
 * What someone typed into an amount box, in major units of a currency with `exponent` decimals,
 * as minor units: "10.5" with exponent 2 → "1050". Commas and spaces are read only where they
 * group thousands: "10,50" is refused, since many readers mean ten and a half by it. More
 * decimals than the currency has are refused rather than rounded.
 */
export const parseAmountInput = (text: string, exponent: number): ParsedAmount => {
  const trimmed = text.trim();
  const match = /^([1-9][0-9]{0,2}(?:[,\s][0-9]{3})+|[0-9]*)(?:\.([0-9]*))?$/.exec(trimmed);
  if (match === null || trimmed === '' || trimmed === '.') {
    const example = exponent === 0 ? '1050' : `10.${'5'.padEnd(exponent, '0')}`;
    if (/^[0-9.,\s]*,[0-9.,\s]*$/.test(trimmed)) {
      return { ok: false, message: exponent === 0 ? 'commas group thousands, such as 1,050' : `use a point for decimals, such as ${example}; commas group thousands` };
    }
    return { ok: false, message: exponent === 0 ? `enter a whole amount, such as ${example}` : `enter an amount such as ${example}` };
  }
  // With three decimals, "10,500" is ten and a half to many readers, ten thousand five hundred to others.
  if (exponent === 3 && match[2] === undefined && /^[0-9]+,[0-9]{3}$/.test(trimmed)) {
    return { ok: false, message: `write ${trimmed.replace(',', '.')} or ${trimmed.replace(',', '')}: with three decimals a single comma could mean either` };
  }
  const whole = (match[1] ?? '').replace(/[,\s]/g, '');
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) {
    return {
      ok: false,
      message: exponent === 0 ? 'this currency has no decimals' : `at most ${exponent} decimal${exponent === 1 ? '' : 's'} in this currency`,
    };
  }
  const minorUnits = `${whole}${fraction.padEnd(exponent, '0')}`.replace(/^0+(?=.)/, '');
  if (minorUnits.length > 18) return { ok: false, message: 'too large an amount' };
  return { ok: true, minorUnits };
};
