/**
 * The wire form of an amount: a JSON string of minor units, "1050" for 10.50 USD. A string,
 * not a JSON number, because JSON numbers become IEEE doubles in most parsers and stop being
 * exact past 2^53. Exactly one spelling per value, so that equal amounts compare equal as text.
 */
import { z } from 'zod';
import { ValidationError } from '../errors/folioError.js';
import { describeValue } from './describeValue.js';
import { InvalidAmountError, MoneyOutOfRangeError } from './errors.js';
import { checkMinorUnits, MAX_MINOR_UNITS } from './money.js';

const MAX_DIGITS = MAX_MINOR_UNITS.toString().length;

const EXPECTED =
  'expected a whole number of minor units in ASCII digits with an optional leading "-", ' +
  'such as "1050" for 10.50 USD';

function notAString(value: unknown): string {
  const wholeNumber =
    (typeof value === 'number' && Number.isSafeInteger(value) && !Object.is(value, -0)) || typeof value === 'bigint';
  const advice = wholeNumber
    ? `send it as a string, such as "${String(value)}", so that no digit is lost`
    : EXPECTED;
  return `minor units must be a string, got ${describeValue(value)}: ${advice}`;
}

function invalid(text: string, problem: string): InvalidAmountError {
  return new InvalidAmountError(`minor units ${describeValue(text)} ${problem}`);
}

/**
 * Reads minor units from the wire, negatives allowed: ASCII digits with an optional leading
 * "-", no leading zeros, no "-0". Typed `unknown` because it guards untrusted input: a JSON
 * number is refused with an error rather than being trusted to be exact.
 */
export function parseMinorUnits(text: unknown): bigint {
  if (typeof text !== 'string') throw new InvalidAmountError(notAString(text));
  if (text === '') throw new InvalidAmountError(`minor units must not be empty: ${EXPECTED}`);
  if (/\s/.test(text)) throw invalid(text, `contain whitespace: ${EXPECTED}`);
  if (text.startsWith('+')) {
    throw invalid(text, 'carry a "+" sign: write positive amounts without a sign, such as "5"');
  }
  if (/^-?[0-9.]+[eE][+-]?[0-9]+$/.test(text)) {
    throw invalid(text, 'use exponent notation: write every digit, such as "1000" for 1e3');
  }
  const digits = text.startsWith('-') ? text.slice(1) : text;
  if (/^[0-9]*[.,][0-9.,]*$/.test(digits)) {
    throw invalid(
      text,
      'contain a decimal point or digit grouping: minor units are a whole number of the ' +
        'smallest unit, such as "1050" for 10.50 USD',
    );
  }
  if (digits === '') throw invalid(text, `have no digits: ${EXPECTED}`);
  if (!/^[0-9]+$/.test(digits)) {
    throw invalid(text, `contain characters other than digits and a leading "-": ${EXPECTED}`);
  }
  if (digits === '0' && text !== digits) throw invalid(text, 'are a negative zero: write "0"');
  if (digits.length > 1 && digits.startsWith('0')) {
    const stripped = digits.replace(/^0+(?=[0-9])/, '');
    const canonical = text === digits || stripped === '0' ? stripped : `-${stripped}`;
    throw invalid(text, `have leading zeros: write "${canonical}"`);
  }
  if (digits.length > MAX_DIGITS) {
    throw new MoneyOutOfRangeError(
      `minor units ${describeValue(text)} are out of range: at most ${MAX_DIGITS} digits, ` +
        `between -${MAX_MINOR_UNITS} and ${MAX_MINOR_UNITS}`,
    );
  }
  return BigInt(text);
}

/** As `parseMinorUnits`, for amounts that must be greater than zero, such as a payment's. */
export function parsePositiveMinorUnits(text: unknown): bigint {
  const amount = parseMinorUnits(text);
  if (amount <= 0n) {
    throw new InvalidAmountError(
      `minor units must be positive: expected an amount greater than zero, got "${amount}"`,
    );
  }
  return amount;
}

/** The wire form of `amount`; throws if it is not a bigint within ±MAX_MINOR_UNITS. */
export function formatMinorUnits(amount: bigint): string {
  return checkMinorUnits(amount).toString();
}

const wireSchema = (parse: (text: string) => bigint) =>
  z.string({ error: (issue) => notAString(issue.input) }).transform((text, ctx) => {
    try {
      return parse(text);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      ctx.issues.push({ code: 'custom', message: error.message, input: text });
      return z.NEVER;
    }
  });

/** Wire minor units (string) to a bigint, with the rules and messages of `parseMinorUnits`. */
export const minorUnitsSchema = wireSchema(parseMinorUnits);

/** Wire minor units (string) to a bigint greater than zero, as `parsePositiveMinorUnits`. */
export const positiveMinorUnitsSchema = wireSchema(parsePositiveMinorUnits);
