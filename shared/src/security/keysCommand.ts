/**
 * `folio keys create --role <role> [--owner <ownerId>] [--label <text>]`, `folio keys revoke
 * <keyId>`, `folio keys list`: API keys, written to the event store the configuration names. The
 * key itself is printed once, on creation, and is not recoverable afterwards.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { requireExistingStores } from '../cli/existingStores.js';
import { loadConfig } from '../config/config.js';
import { embeddedEventStorePath, openEventStore } from '../eventStore/openEventStore.js';
import { createCredentialCommands } from './credentialCommands.js';
import { holderRoles, normaliseOwnerId, roleSchema, type Role } from './principal.js';

const keyIdPattern = /^[0-9a-f]{16}$/;

export const KEYS_USAGE = `usage:
  folio keys create --role <customer|merchant|operator|auditor|admin> [--owner <ownerId>] [--label <text>]
  folio keys revoke <keyId>
  folio keys list`;

/** An argument as a message quotes it; not one that may be a whole key, secret included. */
const quoted = (arg: string): string => (arg.startsWith('folio_') ? '(a key, not shown)' : JSON.stringify(arg));

/** Why the arguments are not a keys command, or undefined when they are one. */
const usageProblem = ({
  command,
  keyId,
  extra,
  options,
  role,
  owner,
}: {
  command: string | undefined;
  keyId: string | undefined;
  extra: readonly string[];
  options: Record<string, string | undefined>;
  role: Role | undefined;
  owner: string | undefined;
}): string | undefined => {
  if (command === undefined) return 'no keys command given';
  if (command !== 'create' && command !== 'revoke' && command !== 'list') return `unknown keys command ${quoted(command)}`;
  const unexpected = command === 'revoke' ? extra[0] : keyId;
  // A label typed without quotes would otherwise lose its second word, a second key id be left unrevoked.
  if (unexpected !== undefined) return `unexpected argument ${quoted(unexpected)} (quote a label with spaces; revoke takes one key id)`;
  if (command !== 'create') {
    // `list --role admin` would list every key, not the admins'.
    const option = Object.keys(options).find((name) => options[name] !== undefined);
    if (option !== undefined) return `${command} takes no --${option}`;
  }
  if (command === 'revoke') {
    if (keyId === undefined) return 'revoke needs a key id';
    // Not echoed: it may be a whole key, secret included.
    if (!keyIdPattern.test(keyId)) return 'a key id is 16 hex digits (the part after folio_ in the key)';
  }
  if (command === 'create') {
    if (options.role === undefined) return 'create needs --role';
    if (role === undefined) return `unknown role ${JSON.stringify(options.role)}`;
    if (holderRoles.has(role) !== (owner !== undefined)) return 'a customer or merchant key needs --owner, other roles take none';
    if (owner === '') return '--owner is empty';
  }
  return undefined;
};

/** Runs the `keys` sub-command with the arguments after `keys`; resolves to the exit code. */
export const runKeysCommand = async (args: readonly string[], environment: NodeJS.ProcessEnv = process.env): Promise<number> => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { role: { type: 'string' }, owner: { type: 'string' }, label: { type: 'string' } },
    });
  } catch (error) {
    console.error(`${String((error as Error).message)}\n${KEYS_USAGE}`);
    return 2;
  }
  const [command, keyId, ...extra] = parsed.positionals;
  const { role: roleText, owner: ownerText, label } = parsed.values;
  const role = roleSchema.safeParse(roleText);
  // As the accounts store it: the key must name the holder the way their accounts do.
  const owner = ownerText === undefined ? undefined : normaliseOwnerId(ownerText);
  const problem = usageProblem({ command, keyId, extra, options: parsed.values, role: role.data, owner });
  if (problem !== undefined) {
    console.error(`${problem}\n${KEYS_USAGE}`);
    return 2;
  }
  const config = loadConfig(environment);
  const newLedger = command === 'create' && config.eventStoreUrl === undefined && !existsSync(embeddedEventStorePath(config.dataDir));
  // Creating the first key is how a ledger starts (see the README's first run); nothing else may start one.
  if (command !== 'create') requireExistingStores(config);
  const eventStore = openEventStore(config);
  try {
    const commands = createCredentialCommands({ eventStore, clock: () => new Date(), actor: 'cli' });
    if (command === 'create' && role.success) {
      const { keyId: created, token } = await commands.createKey({
        role: role.data,
        ...(owner === undefined ? {} : { ownerId: owner }),
        ...(label === undefined ? {} : { label }),
      });
      console.log(JSON.stringify({ keyId: created, role: role.data, ownerId: owner ?? null, key: token }, null, 2));
      if (newLedger) console.error(`created a new ledger in ${config.dataDir}`);
      console.error('keep the key now: it is shown only once. Send it as Authorization: Bearer <key>.');
    } else if (command === 'revoke' && keyId !== undefined) {
      const [known] = await commands.listKeys([keyId]);
      if (known === undefined) {
        console.error(`no key ${keyId}`);
        return 1;
      }
      await commands.revokeKey(keyId);
      console.log(JSON.stringify({ keyId, revoked: true }));
    } else {
      console.log(JSON.stringify(await commands.listKeys(), null, 2));
    }
    return 0;
  } finally {
    await eventStore.close();
  }
};
