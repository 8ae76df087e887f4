import { z } from 'zod';

/** What a credential may do; the access policy decides per route. */
export const roles = ['customer', 'merchant', 'operator', 'auditor', 'admin'] as const;
export type Role = (typeof roles)[number];
export const roleSchema = z.enum(roles);

/** Roles whose keys act for one account holder and see only that holder's accounts. */
export const holderRoles: ReadonlySet<Role> = new Set(['customer', 'merchant']);

/**
 * The kind of an account holder. An owner id names a customer and a merchant alike (both come
 * from the product's own records), so a holder is its role and its owner id together.
 */
export const holderRoleSchema = z.enum(['customer', 'merchant']);
export type HolderRole = z.infer<typeof holderRoleSchema>;

export const isHolderRole = (role: Role): role is HolderRole => holderRoles.has(role);

/** Who is calling, once the bearer credential checked out. */
export interface Principal {
  keyId: string;
  role: Role;
  /** The account holder a customer or merchant key belongs to (the accounts' `ownerId`). */
  ownerId?: string;
}

/**
 * An owner id as accounts store it (NFC, trimmed, like every reference on the wire), so that
 * "é" typed precomposed or decomposed names the same holder.
 */
export const normaliseOwnerId = (ownerId: string): string => ownerId.normalize('NFC').trim();

/** How the caller is named in idempotency scopes and in the `actor` of the events it causes. */
export const actorOf = (principal: Principal): string => `key:${principal.keyId}`;
