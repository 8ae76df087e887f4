import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { makeDirectories } from '../files/makeDirectories.js';
import { AuditInputError, ExportWriteError } from './auditErrors.js';
import { BUNDLE_FORMAT, type ExportFiles } from './auditExport.js';

/** Why an export cannot go to `path`, by the error code the file system gave (or we raise alike). */
const reasonOf = (error: unknown): string => {
  const { code, syscall, path = '' } = error as NodeJS.ErrnoException;
  // Directories are created one level at a time: the parent of the one refused exists.
  if (syscall === 'mkdir' && code === 'ENOTDIR') return `${dirname(path)} is a file, not a directory`;
  if (syscall === 'mkdir') return `cannot create the directory ${path} (${code})`;
  if (code === 'EEXIST') return 'it is a file, not a directory (--bundle writes the export as one file)';
  if (code === 'EISDIR') return 'it is a directory, not a file (without --bundle the export is written into a directory)';
  if (code === 'ENOTEMPTY') return 'it already holds files (an export is written into a new or empty directory)';
  return error instanceof Error ? error.message : String(error);
};

const fileSystemError = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });

/** Where an export is being written: made ready before the export is made, so nothing is made for nowhere. */
export interface ExportTarget {
  /** Writes the files under the temporary name and moves them into place. */
  write(files: ExportFiles): void;
  /** Removes what was made ready, for an export that will not be written after all. */
  abandon(): void;
}

/**
 * Checks that an export can go to `path` and makes its temporary place there: beside `path`, or
 * for a directory that exists, inside it. The export is written under that name and then renamed
 * into place, so an export interrupted (a full disk, Ctrl-C) leaves no partial export where a
 * verifier would read it. A directory export goes into a new or empty directory; a bundle
 * (`bundle`) is one file: `{"format": "folio-audit-export-bundle/1", "files": {name: content}}`,
 * what the API answers.
 */
export const prepareExport = (path: string, options: { bundle: boolean }): ExportTarget => {
  const exists = existsSync(path);
  // An empty directory that exists stays (a mount point or a symlink cannot be replaced): the
  // export is written in a hidden directory inside it, whose files are then moved up.
  const intoExisting = exists && !options.bundle;
  const temporary = join(intoExisting ? path : dirname(path), `.${process.pid}-${Date.now()}.partial-export`);
  const failed = (error: unknown): ExportWriteError => {
    if (existsSync(temporary)) rmSync(temporary, { recursive: true, force: true });
    return new ExportWriteError(`cannot write the export to ${path}: ${reasonOf(error)}`, { cause: error });
  };
  try {
    makeDirectories(dirname(temporary));
    if (options.bundle) {
      if (exists && statSync(path).isDirectory()) throw fileSystemError('EISDIR');
      writeFileSync(temporary, '', { flag: 'wx' });
    } else {
      if (exists && !statSync(path).isDirectory()) throw fileSystemError('EEXIST');
      // Files of an earlier export mixed with this one's would not verify, or worse, would.
      if (exists && readdirSync(path).length > 0) throw fileSystemError('ENOTEMPTY');
      mkdirSync(temporary);
    }
  } catch (error) {
    throw failed(error);
  }
  return {
    write(files) {
      try {
        if (options.bundle) {
          writeFileSync(temporary, toBundle(files));
          return renameSync(temporary, path);
        }
        for (const [name, content] of Object.entries(files)) writeFileSync(join(temporary, name), content);
        if (!intoExisting) return renameSync(temporary, path);
        for (const name of Object.keys(files)) renameSync(join(temporary, name), join(path, name));
        rmdirSync(temporary);
      } catch (error) {
        throw failed(error);
      }
    },
    abandon() {
      rmSync(temporary, { recursive: true, force: true });
    },
  };
};

/** Writes an export into the directory `directory` (see `prepareExport`). */
export const writeExport = (directory: string, files: ExportFiles): void => prepareExport(directory, { bundle: false }).write(files);

const bundleSchema = z.strictObject({ format: z.literal(BUNDLE_FORMAT), files: z.record(z.string(), z.string()) });

export const toBundle = (files: ExportFiles): string => `${JSON.stringify({ format: BUNDLE_FORMAT, files })}\n`;

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
