import { readFileSync } from 'node:fs';

/** Folio's release, from the root package.json: every service reports it on `/healthz`. */
export const folioVersion: string = (
  JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
