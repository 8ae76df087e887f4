/**
 * `folio keys create --role <role> [--owner <ownerId>] [--label <text>]`, `folio keys revoke
 * <keyId>`, `folio keys list`: API keys, written to the event store the configuration names. The
 * key itself is printed once, on creation, and is not recoverable afterwards.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { openEventStore } from '../eventStore/openEventStore.js';
import { createCredentialCommands } from './credentialCommands.js';
import { holderRoles, normaliseOwnerId, roleSchema } from './principal.js';

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
  const [command, keyId] = parsed.positionals;
  const { role: roleText, owner, label } = parsed.values;
  const role = roleSchema.safeParse(roleText);
  if (command === 'create' && (!role.success || holderRoles.has(role.data) !== (owner !== undefined))) {
    console.error(`a customer or merchant key needs --owner, other roles take none\n${KEYS_USAGE}`);
    return 2;
  }
  if (!(command === 'create' || (command === 'revoke' && keyId !== undefined) || command === 'list')) {
    console.error(KEYS_USAGE);
    return 2;
  }
  const eventStore = openEventStore(loadConfig(environment));
  try {
    const commands = createCredentialCommands({ eventStore, clock: () => new Date(), actor: 'cli' });
    if (command === 'create' && role.success) {
      const { keyId: created, token } = await commands.createKey({
        role: role.data,
        ...(owner === undefined ? {} : { ownerId: normaliseOwnerId(owner) }),
        ...(label === undefined ? {} : { label }),
      });
      console.log(JSON.stringify({ keyId: created, role: role.data, ownerId: owner ?? null, key: token }, null, 2));
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
