#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { AUDIT_USAGE, KEYS_USAGE, runAuditCli, runKeysCommand } from '@folio/shared';
import { importStatementUsage, runImportStatementCommand } from '@folio/command-side';
import { projectionsUsage, runProjectionsCommand } from '@folio/projections';

/**
 * `folio`: the operator's and the auditor's command line, against the stores the configuration
 * names.
 *   folio projections rebuild|prune <name>
 *   folio import-statement <file> --provider <name> [--format <f>] [--mapping <json>]
 *   folio audit balance|trial-balance|verify|export|verify-export|…
 *   folio keys create|revoke|list
 * Exit codes: 0 done, 1 failed (a store, a file, a refusal), 2 wrong usage; every failure says
 * why in one line on stderr first.
 */
const usages: Record<string, string> = {
  projections: projectionsUsage,
  'import-statement': importStatementUsage,
  keys: KEYS_USAGE,
  audit: AUDIT_USAGE,
};
const EXIT_CODES = 'exit codes: 0 done; 1 failed (a store, a file, a refusal, a difference found); 2 wrong usage';
const allUsages = [...Object.values(usages), EXIT_CODES].join('\n');
const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';

/**
 * The first option given twice, as typed. Each command would take the last one silently: a period
 * closed at the date typed second, a key made with the role typed second.
 */
const repeatedOption = (args: readonly string[]): string | undefined => {
  const seen = new Set<string>();
  for (const token of parseArgs({ args: [...args], strict: false, allowPositionals: true, tokens: true }).tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) return token.rawName;
    seen.add(token.name);
  }
  return undefined;
};

const run = async ([command, ...args]: readonly string[]): Promise<number> => {
  if (command === undefined) {
    process.stderr.write(`no command given\n${allUsages}\n`);
    return 2;
  }
  if (isHelp(command) || command === 'help') {
    process.stdout.write(`${allUsages}\n`);
    return 0;
  }
  const usage = usages[command];
  if (usage === undefined) {
    process.stderr.write(`unknown command ${command}\n${allUsages}\n`);
    return 2;
  }
  if (args.some(isHelp)) {
    process.stdout.write(`${usage}\n${EXIT_CODES}\n`);
    return 0;
  }
  const repeated = repeatedOption(args);
  if (repeated !== undefined) {
    process.stderr.write(`${repeated} given twice\n${usage}\n`);
    return 2;
  }
  switch (command) {
    case 'projections':
      return runProjectionsCommand(args);
    case 'import-statement':
      return runImportStatementCommand(args);
    case 'keys':
      return runKeysCommand(args);
    default:
      return runAuditCli(args, {
        out: (text) => process.stdout.write(`${text}\n`),
        err: (text) => process.stderr.write(`${text}\n`),
        environment: process.env,
      });
  }
};

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  // An operator needs the reason (store unreachable, bad configuration), not a stack trace.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
