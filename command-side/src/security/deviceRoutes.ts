import { randomUUID } from 'node:crypto';
import {
  actorOf,
  createCredentialCommands,
  ed25519PublicKeyProblem,
  ForbiddenError,
  holderRoleSchema,
  isHolderRole,
  NotFoundError,
  jsonBody,
  parseRequest,
  principalOf,
  referenceSchema,
  UnauthenticatedError,
  ValidationError,
  type CredentialDirectory,
  type EventStore,
} from '@folio/shared';
import { Router } from 'express';
import { z } from 'zod';

const registerDeviceSchema = z.strictObject({
  /** The raw 32-byte Ed25519 public key, base64url. */
  publicKey: z.string().max(100),
  /** Whose device: implied by a customer or merchant key; named by an admin registering for a holder. */
  ownerId: referenceSchema.optional(),
  /** The customer's or the merchant's of `ownerId`: implied by a holder's key; named by an admin. */
  role: holderRoleSchema.optional(),
});

/**
 * `POST /v1/devices`: an account holder registers the public key of a device; its money
 * movements are then signed with the private key, which never leaves the device. A holder's
 * first device comes with its key alone; every further one arrives signed by a device the holder
 * has (the security middleware checks that before this route runs).
 */
export const deviceRoutes = ({
  eventStore,
  directory,
  clock,
}: {
  eventStore: EventStore;
  directory: CredentialDirectory;
  clock: () => Date;
}): Router => {
  const router = Router();
  router.post('/v1/devices', jsonBody(), async (request, response) => {
    const principal = principalOf(request.res!);
    if (principal === undefined) throw new UnauthenticatedError();
    const body = parseRequest(registerDeviceSchema, request.body, 'body');
    const keyProblem = ed25519PublicKeyProblem(body.publicKey);
    if (keyProblem !== undefined) {
      const message =
        keyProblem === 'malformed'
          ? 'expected a raw Ed25519 public key, base64url (43 characters)'
          : 'a weak Ed25519 key (a point of small order, or outside the prime-order group), for which signatures can be forged: generate a key pair with an Ed25519 implementation';
      throw new ValidationError(`invalid request body: body.publicKey: ${message}`, [{ path: 'body.publicKey', message }]);
    }
    const ownerId = principal.ownerId ?? body.ownerId;
    if (ownerId === undefined) {
      throw new ValidationError('invalid request body: body.ownerId: required for a key without a holder', [
        { path: 'body.ownerId', message: 'required for a key without a holder' },
      ]);
    }
    const holderKey = isHolderRole(principal.role) ? principal.role : undefined;
    if (
      (principal.ownerId !== undefined && body.ownerId !== undefined && body.ownerId !== principal.ownerId) ||
      (holderKey !== undefined && body.role !== undefined && body.role !== holderKey)
    ) {
      throw new ForbiddenError('a holder registers devices for itself only');
    }
    const role = holderKey ?? body.role;
    if (role === undefined) {
      throw new ValidationError('invalid request body: body.role: required for a key without a holder (customer or merchant)', [
        { path: 'body.role', message: 'required for a key without a holder (customer or merchant)' },
      ]);
    }
    const deviceId = randomUUID();
    const commands = createCredentialCommands({ eventStore, clock, actor: actorOf(principal) });
    const { event, position } = await commands.registerDevice(deviceId, ownerId, body.publicKey, role);
    directory.apply(event);
    response
      .status(201)
      .location(`/v1/devices/${deviceId}`)
      .json({ deviceId, ownerId, role, publicKey: body.publicKey, position: position.toString() });
  });

  // A holder revokes its own devices with its key alone: taking trust away needs no step-up, and
  // a holder whose every device is lost could not sign for it. Another's device (the other holder
  // of the same owner id's too) answers as a missing one; a device revoked already is revoked
  // again, answering as the first time (a lost answer's retry).
  router.post('/v1/devices/:id/revoke', jsonBody(), async (request, response) => {
    const principal = principalOf(request.res!);
    if (principal === undefined) throw new UnauthenticatedError();
    parseRequest(z.strictObject({}), request.body, 'body');
    const deviceId = String(request.params.id);
    const device = /^[\x21-\x7e]{1,100}$/.test(deviceId) ? await directory.registeredDevice(deviceId) : undefined;
    if (device === undefined || (principal.ownerId !== undefined && (device.ownerId !== principal.ownerId || device.role !== principal.role))) {
      throw new NotFoundError('device', deviceId);
    }
    const commands = createCredentialCommands({ eventStore, clock, actor: actorOf(principal) });
    const { event, position } = await commands.revokeDevice(deviceId);
    directory.apply(event);
    response.json({ deviceId, ownerId: device.ownerId, role: device.role, revoked: true, position: position.toString() });
  });
  return router;
};
