import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AuditInputError, ExportWriteError } from './auditErrors.js';
import { BUNDLE_FORMAT, type ExportFiles } from './auditExport.js';

/** Runs a write of the export to `path`, turning a file system failure into one line saying why. */
const writing = (path: string, write: () => void): void => {
  try {
    write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EEXIST'
        ? 'it is a file, not a directory (--bundle writes the export as one file)'
        : code === 'EISDIR'
          ? 'it is a directory, not a file (without --bundle the export is written into a directory)'
          : error instanceof Error
            ? error.message
            : String(error);
    throw new ExportWriteError(`cannot write the export to ${path}: ${reason}`, { cause: error });
  }
};

/**
 * An export on disk: a directory of its files, or one bundle file (JSON:
 * `{"format": "folio-audit-export-bundle/1", "files": {name: content}}`, what the API answers).
 */
export const writeExport = (directory: string, files: ExportFiles): void =>
  writing(directory, () => {
    mkdirSync(directory, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(directory, name), content);
  });

const bundleSchema = z.strictObject({ format: z.literal(BUNDLE_FORMAT), files: z.record(z.string(), z.string()) });

export const toBundle = (files: ExportFiles): string => `${JSON.stringify({ format: BUNDLE_FORMAT, files })}\n`;

export const writeBundle = (path: string, files: ExportFiles): void => writing(path, () => writeFileSync(path, toBundle(files)));

/** Reads an export from a directory or a bundle file; file contents are kept byte for byte (as latin1 when not UTF-8). */
export const readExport = (path: string): ExportFiles => {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new AuditInputError(`${path} does not exist`);
  }
  if (stats.isDirectory()) {
    return Object.fromEntries(
      readdirSync(path)
        .filter((name) => statSync(join(path, name)).isFile())
        .map((name) => [name, decode(readFileSync(join(path, name)))]),
    );
  }
  const parsed = bundleSchema.safeParse(safeJson(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new AuditInputError(`${path} is neither an export directory nor a ${BUNDLE_FORMAT} file`);
  return parsed.data.files;
};

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** UTF-8 text, or (for bytes that are not UTF-8, so are altered) a lossless latin1 reading that will not verify. */
const decode = (bytes: Buffer): string => {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : bytes.toString('latin1');
};
