import { correlationIdOf } from '@folio/shared';
import express, { Router } from 'express';
import type { CallbackReceiver } from './callbackReceiver.js';
import { SIGNATURE_HEADER } from './callbackSignature.js';

/** A provider callback is small; the limit keeps a flood of large bodies cheap to refuse. */
const CALLBACK_BODY_LIMIT = 64 * 1024;

/**
 * `POST /v1/providers/{provider}/callbacks`: the raw body is kept as sent, since the signature is
 * over its exact bytes.
 */
export const callbackRoutes = (receiver: CallbackReceiver): Router => {
  const router = Router();
  router.post(
    '/v1/providers/:provider/callbacks',
    express.raw({ type: () => true, limit: CALLBACK_BODY_LIMIT, inflate: false }),
    async (request, response) => {
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const answer = await receiver.receive(
        String(request.params.provider),
        rawBody,
        request.get(SIGNATURE_HEADER),
        correlationIdOf(response.locals),
      );
      response.status(answer.status).json(answer.body);
    },
  );
  return router;
};
