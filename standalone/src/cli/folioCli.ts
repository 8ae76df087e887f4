#!/usr/bin/env node
import { importStatementUsage, runImportStatementCommand } from '@folio/command-side';
import { projectionsUsage, runProjectionsCommand } from '@folio/projections';

/**
 * `folio`: the operator's command line, against the stores the configuration names.
 *   folio projections rebuild <name>
 *   folio import-statement <file> --provider <name> [--format <f>] [--mapping <json>]
 */
const [command, ...args] = process.argv.slice(2);
switch (command) {
  case 'projections':
    process.exitCode = await runProjectionsCommand(args);
    break;
  case 'import-statement':
    process.exitCode = await runImportStatementCommand(args);
    break;
  default:
    console.error([projectionsUsage, importStatementUsage].join('\n'));
    process.exitCode = 2;
}
