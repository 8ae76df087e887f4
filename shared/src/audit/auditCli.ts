import { parseArgs } from 'node:util';
import { z } from 'zod';
import { requireExistingStores } from '../cli/existingStores.js';
import { loadConfig } from '../config/config.js';
import { FolioError } from '../errors/folioError.js';
import { openEventStore } from '../eventStore/openEventStore.js';
import type { EventStore, JsonValue } from '../eventStore/eventStore.js';
import { snowflakeIdSchema } from '../ids/index.js';
import { accountAsOf } from './accountAsOf.js';
import { loadAuditConfig } from './auditConfig.js';
import { createExport, verifyExport } from './auditExport.js';
import { accountAtPointToJson, trialBalanceToJson } from './auditJson.js';
import { createAuditRuntime } from './auditRuntime.js';
import { chainEventStore } from './chainedEventStore.js';
import { prepareExport, readExport } from './exportFiles.js';
import { closePeriod, periodIdSchema, restatementsOf } from './periods.js';
import type { PointInTime } from './pointInTime.js';
import { loadExistingSigner } from './signing.js';
import { trialBalanceAt } from './trialBalance.js';
import { verifyEventStore } from './verifyEventStore.js';

/**
 * `folio audit …`: the auditor's commands. All but `verify-export` read the configured event store
 * (the same environment as `npm start`); `verify-export` needs nothing but the export. The exit
 * status is 0 when done; 1 when the command failed: a verification or an unbalanced trial balance,
 * an export missing, unreadable, not an export or not writable where asked, no signing key, a bad
 * configuration, a store's refusal (a position beyond the head, a period closed before); 2 on wrong
 * usage (an argument or option missing, malformed or not taken by the command), with the usage.
 */
export const AUDIT_USAGE = `usage:
  folio audit balance <accountId> [--position P] [--as-of T] [--effective-at T] [--entries N]
  folio audit trial-balance [--position P] [--as-of T]
  folio audit verify [--up-to P]
  folio audit export <dir|file.json> [--position P] [--bundle]
  folio audit verify-export <dir|file.json> [--key-id HEX]
  folio audit close-period <periodId> --until T --actor NAME [--position P]
  folio audit restatements <periodId>
  folio audit public-key
T is an ISO-8601 timestamp with a zone, or a date (meaning its last millisecond, UTC).`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  environment: NodeJS.ProcessEnv;
}

const positionOption = z.string().regex(/^(0|[1-9][0-9]{0,18})$/, 'a position is decimal digits').transform(BigInt);
const instantOption = z
  .union([z.iso.datetime({ offset: true }), z.iso.date().transform((date) => `${date}T23:59:59.999Z`)])
  .transform((text) => Date.parse(text))
  // An offset can carry year 0000 or 9999 past the four-digit years an ISO-8601 time (and a close) holds.
  .refine((millis) => Number.isFinite(millis) && /^\d{4}-/.test(new Date(millis).toISOString()), 'a time from year 0000 to 9999 in UTC');
const entriesOption = z.string().regex(/^[0-9]{1,4}$/, 'a whole number up to 9999').transform(Number);
// Key ids are printed in lower case; one copied in upper case names the same key.
const keyIdOption = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'a key id is 64 hex digits (as `folio audit public-key` prints it)')
  .transform((hex) => hex.toLowerCase());

class UsageError extends Error {}

/** The commands that take a positional argument (an account, a path, a period). */
const targeted = new Set(['balance', 'export', 'verify-export', 'close-period', 'restatements']);
const untargeted = new Set(['trial-balance', 'verify', 'public-key']);
/** The options each command reads: any other would be silently ignored (`verify --position 9` verifying everything). */
const optionsOf = new Map<string, readonly string[]>([
  ['balance', ['position', 'as-of', 'effective-at', 'entries']],
  ['trial-balance', ['position', 'as-of']],
  ['verify', ['up-to']],
  ['export', ['position', 'bundle']],
  ['verify-export', ['key-id']],
  ['close-period', ['until', 'actor', 'position']],
  ['restatements', []],
  ['public-key', []],
]);

const parse = <T extends z.ZodType>(schema: T, value: string | undefined, name: string): z.output<T> | undefined => {
  if (value === undefined) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(`${name}: ${result.error.issues[0]?.message ?? 'invalid'} (got ${JSON.stringify(value)})`);
  return result.data;
};

const json = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner), 2);

export const runAuditCli = async (args: readonly string[], io: CliIo): Promise<number> => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        position: { type: 'string' },
        'as-of': { type: 'string' },
        'effective-at': { type: 'string' },
        entries: { type: 'string' },
        'up-to': { type: 'string' },
        bundle: { type: 'boolean' },
        'key-id': { type: 'string' },
        until: { type: 'string' },
        actor: { type: 'string' },
      },
    });
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n${AUDIT_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, target, ...extra] = positionals;

  const withStore = async <T>(work: (eventStore: EventStore) => Promise<T>): Promise<T> => {
    const config = loadConfig(io.environment);
    requireExistingStores(config);
    const eventStore = chainEventStore(openEventStore(config));
    try {
      return await work(eventStore);
    } finally {
      await eventStore.close();
    }
  };
  // Never a new key: one that signed nothing would mislead an auditor. Read before the store is
  // opened, so a missing key writes nothing.
  const signer = () => loadExistingSigner(loadAuditConfig(io.environment), loadConfig(io.environment).dataDir);

  try {
    const unexpected = command === undefined ? undefined : targeted.has(command) ? extra[0] : untargeted.has(command) ? target : undefined;
    // An argument left unread would silently change nothing: `verify 1200` is not `verify --up-to 1200`.
    if (unexpected !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(unexpected)}`);
    const taken = command === undefined ? undefined : optionsOf.get(command);
    const unread = taken === undefined ? undefined : Object.keys(values).find((name) => !taken.includes(name));
    if (unread !== undefined) throw new UsageError(`${command} takes no --${unread}`);
    const position = parse(positionOption, values.position, '--position');
    const point: PointInTime = {
      ...(position === undefined ? {} : { position }),
      ...(values['as-of'] === undefined ? {} : { asOf: parse(instantOption, values['as-of'], '--as-of')! }),
      ...(values['effective-at'] === undefined ? {} : { effectiveAt: parse(instantOption, values['effective-at'], '--effective-at')! }),
    };
    switch (command) {
      case 'balance': {
        const accountId = parse(snowflakeIdSchema, target, 'accountId');
        if (accountId === undefined) throw new UsageError('balance needs an account id');
        const entries = parse(entriesOption, values.entries, '--entries') ?? 20;
        const result = await withStore((eventStore) => accountAsOf(eventStore, accountId, point, { entries }));
        io.out(json(accountAtPointToJson(result)));
        return 0;
      }
      case 'trial-balance': {
        const trial = await withStore((eventStore) => trialBalanceAt(eventStore, point));
        io.out(json(trialBalanceToJson(trial)));
        return trial.balanced ? 0 : 1;
      }
      case 'verify': {
        const upTo = parse(positionOption, values['up-to'], '--up-to');
        const trustedKeyId = signer().keyId;
        const report = await withStore((eventStore) => verifyEventStore(eventStore, { trustedKeyId, ...(upTo === undefined ? {} : { upTo }) }));
        io.out(json(report));
        if (!report.ok) io.err(`verification FAILED at ${json(report.firstBroken)}`);
        return report.ok ? 0 : 1;
      }
      case 'export': {
        if (target === undefined) throw new UsageError('export needs a directory (or a file with --bundle)');
        const key = signer();
        // Before the checkpoint below is appended: an export that cannot be written leaves the log as it was.
        const destination = prepareExport(target, { bundle: values.bundle === true });
        const files = await withStore(async (eventStore) => {
          if (position === undefined) {
            // An export of the head carries a checkpoint of the head.
            await createAuditRuntime({ eventStore, signer: key }).runOnce({ force: true });
          }
          return createExport(eventStore, key, { ...(position === undefined ? {} : { position }), now: new Date() });
        }).catch((error: unknown) => {
          destination.abandon();
          throw error;
        });
        destination.write(files);
        io.out(json({ exported: target, manifest: JSON.parse(files['manifest.json']!) as JsonValue }));
        return 0;
      }
      case 'verify-export': {
        if (target === undefined) throw new UsageError('verify-export needs the export directory or bundle file');
        const keyId = parse(keyIdOption, values['key-id'], '--key-id');
        const report = verifyExport(readExport(target), keyId === undefined ? {} : { trustedKeyId: keyId });
        io.out(json(report));
        if (!report.ok) io.err(`export verification FAILED: ${[...report.problems, report.firstBroken?.reason].filter(Boolean).join('; ')}`);
        return report.ok ? 0 : 1;
      }
      case 'close-period': {
        const periodId = parse(periodIdSchema, target, 'periodId');
        const until = parse(instantOption, values.until, '--until');
        if (periodId === undefined || until === undefined || values.actor === undefined) {
          throw new UsageError('close-period needs a period id, --until and --actor');
        }
        const closed = await withStore((eventStore) =>
          closePeriod(eventStore, {
            periodId,
            effectiveUntil: new Date(until),
            // Named by the operator, and marked so: it can never pass for an API key's `key:<keyId>`.
            actor: `cli:${values.actor!}`,
            now: new Date(),
            ...(position === undefined ? {} : { position }),
          }),
        );
        io.out(json(closed));
        return 0;
      }
      case 'restatements': {
        const periodId = parse(periodIdSchema, target, 'periodId');
        if (periodId === undefined) throw new UsageError('restatements needs a period id');
        const report = await withStore((eventStore) => restatementsOf(eventStore, periodId));
        io.out(json(report));
        return 0;
      }
      case 'public-key': {
        const key = signer();
        io.out(json({ keyId: key.keyId, publicKey: key.publicKeyPem }));
        return 0;
      }
      default:
        throw new UsageError(command === undefined ? 'no command given' : `unknown command ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n${AUDIT_USAGE}`);
      return 2;
    }
    // Not the call but what it named: an export, the signing key, the configuration, the books.
    if (error instanceof FolioError) {
      io.err(error.message);
      return 1;
    }
    throw error;
  }
};
