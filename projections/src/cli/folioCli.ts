#!/usr/bin/env node
/**
 * `folio <group> …`: hands `folio audit …` to the audit's commands and everything else to the
 * read side's commands (`folio projections …`), which read their own arguments.
 */
const [group, ...rest] = process.argv.slice(2);
if (group === 'audit') {
  const { runAuditCli } = await import('@folio/shared');
  process.exitCode = await runAuditCli(rest, {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    environment: process.env,
  });
} else {
  await import('./folioProjectionsCli.js');
}
