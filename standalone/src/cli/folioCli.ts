#!/usr/bin/env node
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
 */
const [command, ...args] = process.argv.slice(2);
switch (command) {
  case 'projections':
    process.exitCode = await runProjectionsCommand(args);
    break;
  case 'import-statement':
    process.exitCode = await runImportStatementCommand(args);
    break;
  case 'keys':
    process.exitCode = await runKeysCommand(args);
    break;
  case 'audit':
    process.exitCode = await runAuditCli(args, {
      out: (text) => process.stdout.write(`${text}\n`),
      err: (text) => process.stderr.write(`${text}\n`),
      environment: process.env,
    });
    break;
  default:
    console.error([projectionsUsage, importStatementUsage, KEYS_USAGE, AUDIT_USAGE].join('\n'));
    process.exitCode = 2;
}
