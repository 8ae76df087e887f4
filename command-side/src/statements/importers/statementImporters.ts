import { ValidationError, statementFormats, type StatementFormat } from '@folio/shared';
import { adyenSdrImporter } from './adyenSdrImporter.js';
import { camt053Importer } from './camt053Importer.js';
import { csvMappingSchema, type CsvMappingInput } from './csvMapping.js';
import { genericCsvImporter } from './genericCsvImporter.js';
import { mt940Importer } from './mt940Importer.js';
import { paypalStlImporter } from './paypalStlImporter.js';
import type { StatementImporter } from './parsedStatement.js';
import { stripeBalanceImporter } from './stripeBalanceImporter.js';

/** The format a provider's files are in when the caller does not say. */
export const defaultFormatOf: Readonly<Record<string, StatementFormat>> = {
  stripe: 'stripe-balance',
  paypal: 'paypal-stl',
  adyen: 'adyen-sdr',
};

const fixedImporters: Readonly<Record<Exclude<StatementFormat, 'csv'>, StatementImporter>> = {
  'stripe-balance': stripeBalanceImporter,
  'paypal-stl': paypalStlImporter,
  'adyen-sdr': adyenSdrImporter,
  camt053: camt053Importer,
  mt940: mt940Importer,
};

export interface ImporterChoice {
  provider: string;
  format?: string | undefined;
  /** The column mapping of a generic CSV: an object, or its JSON text. */
  mapping?: unknown;
}

const parseMapping = (mapping: unknown) => {
  let value = mapping;
  if (typeof mapping === 'string') {
    try {
      value = JSON.parse(mapping);
    } catch {
      throw new ValidationError('the column mapping is not valid JSON', [{ path: 'mapping', message: 'expected a JSON object' }]);
    }
  }
  const parsed = csvMappingSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: ['mapping', ...issue.path.map(String)].join('.'), message: issue.message }));
    throw new ValidationError(`invalid column mapping: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, issues);
  }
  return parsed.data;
};

/** The importer for a provider's file: its stated format, else the provider's usual one. */
export const chooseImporter = ({ provider, format, mapping }: ImporterChoice): StatementImporter => {
  const chosen = format ?? defaultFormatOf[provider];
  if (chosen === undefined) {
    throw new ValidationError(`say which format ${provider}'s file is in: one of ${statementFormats.join(', ')}`, [
      { path: 'format', message: 'required for this provider' },
    ]);
  }
  if (!(statementFormats as readonly string[]).includes(chosen)) {
    throw new ValidationError(`unknown statement format ${JSON.stringify(chosen)}: expected one of ${statementFormats.join(', ')}`, [
      { path: 'format', message: `expected one of ${statementFormats.join(', ')}` },
    ]);
  }
  if (chosen === 'csv') {
    if (mapping === undefined) {
      throw new ValidationError('a generic CSV needs a column mapping', [{ path: 'mapping', message: 'required for the csv format' }]);
    }
    return genericCsvImporter(parseMapping(mapping as CsvMappingInput));
  }
  if (mapping !== undefined) {
    throw new ValidationError(`a column mapping applies to the csv format only, not ${chosen}`, [{ path: 'mapping', message: 'not accepted here' }]);
  }
  return fixedImporters[chosen as Exclude<StatementFormat, 'csv'>];
};
