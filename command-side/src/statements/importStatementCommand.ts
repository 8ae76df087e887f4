import { randomUUID } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { FolioError, loadConfig, openEventStore, requireExistingStores, statementImported, ValidationError } from '@folio/shared';
import { createStatementImportService } from './statementImportService.js';

export const importStatementUsage =
  'usage: folio import-statement <file> --provider <name> [--format <stripe-balance|paypal-stl|adyen-sdr|camt053|mt940|csv>] [--mapping <json or file>]';

/** A mapping given inline (`{…}`) or as the path of a JSON file. */
const mappingOf = (value: string | undefined): string | undefined =>
  value === undefined || value.trimStart().startsWith('{') ? value : readFileSync(value, 'utf8');

/** Why the arguments are not an import, or undefined when they are one. */
const usageProblem = (file: string | undefined, extra: readonly string[], provider: string | undefined): string | undefined => {
  if (file === undefined) return 'import-statement needs the statement file';
  if (extra.length > 0) return `unexpected argument ${JSON.stringify(extra[0])} (import-statement takes one file)`;
  if (provider === undefined) return 'import-statement needs --provider';
  return undefined;
};

/**
 * `folio import-statement <file> --provider <name> [--format <f>] [--mapping <json>]`: imports a
 * statement file into the configured event store, as the upload endpoint does, and prints the
 * import's summary. Exit codes: 0 imported (or imported before), 1 the file is malformed or was
 * refused, 2 wrong usage (a bad provider, format or mapping included).
 */
export const runImportStatementCommand = async (args: readonly string[]): Promise<number> => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { provider: { type: 'string' }, format: { type: 'string' }, mapping: { type: 'string' } },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${importStatementUsage}`);
    return 2;
  }
  const [file, ...extra] = parsed.positionals;
  const { provider, format, mapping } = parsed.values;
  const problem = usageProblem(file, extra, provider);
  if (problem !== undefined || file === undefined || provider === undefined) {
    console.error(`${problem}\n${importStatementUsage}`);
    return 2;
  }
  let mappingText: string | undefined;
  try {
    mappingText = mappingOf(mapping);
  } catch (error) {
    // Named here: the error of a directory read names no path.
    console.error(`cannot read ${mapping} (${(error as NodeJS.ErrnoException).code})`);
    return 1;
  }
  const config = loadConfig();
  requireExistingStores(config);
  const eventStore = openEventStore(config);
  try {
    const service = createStatementImportService({ eventStore });
    const result = await service.importStatement(
      { provider, format, mapping: mappingText, fileName: basename(file), content: createReadStream(file) },
      { correlationId: randomUUID(), actor: 'cli', now: new Date() },
    );
    const summary = statementImported.schema.encode(result.summary);
    console.log(JSON.stringify({ ...summary, alreadyImported: result.alreadyImported, position: result.position.toString() }, null, 2));
    return 0;
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
      console.error(`cannot read ${file} (${code})`);
      return 1;
    }
    if (!(error instanceof FolioError) || error.status >= 500) throw error;
    if (error instanceof ValidationError) {
      // The provider, format or mapping given, checked before the file is read: the call is wrong, not the file.
      console.error(`${error.message}\n${importStatementUsage}`);
      return 2;
    }
    console.error(error.message);
    const extensions = error.problemExtensions();
    if (Object.keys(extensions).length > 0) console.error(JSON.stringify(extensions, null, 2));
    return 1;
  } finally {
    await eventStore.close();
  }
};
