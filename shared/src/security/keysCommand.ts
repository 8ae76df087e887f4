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
import { holderRoles, normaliseOwnerId, roleSchema } from './principal.js';

const keyIdPattern = /^[0-9a-f]{16}$/;

export const KEYS_USAGE = `usage:
  folio keys create --role <customer|merchant|operator|auditor|admin> [--owner <ownerId>] [--label <text>]
  folio keys revoke <keyId>
  folio keys list`;

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
  const unexpected = command === 'revoke' ? extra[0] : keyId;
  if (unexpected !== undefined) {
    // A label typed without quotes would otherwise lose its second word, a second key id be left unrevoked.
    console.error(`unexpected argument ${JSON.stringify(unexpected)} (quote a label with spaces; revoke takes one key id)\n${KEYS_USAGE}`);
    return 2;
  }
  const role = roleSchema.safeParse(roleText);
  // As the accounts store it: the key must name the holder the way their accounts do.
  const owner = ownerText === undefined ? undefined : normaliseOwnerId(ownerText);
  if (command === 'create' && (!role.success || holderRoles.has(role.data) !== (owner !== undefined))) {
    console.error(`a customer or merchant key needs --owner, other roles take none\n${KEYS_USAGE}`);
    return 2;
  }
  if (owner === '') {
    console.error(`--owner is empty\n${KEYS_USAGE}`);
    return 2;
  }
  if (command === 'revoke' && keyId !== undefined && !keyIdPattern.test(keyId)) {
    // Not echoed: it may be a whole key, secret included.
    console.error(`a key id is 16 hex digits (the part after folio_ in the key)\n${KEYS_USAGE}`);
    return 2;
  }
  if (!(command === 'create' || (command === 'revoke' && keyId !== undefined) || command === 'list')) {
    console.error(KEYS_USAGE);
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
