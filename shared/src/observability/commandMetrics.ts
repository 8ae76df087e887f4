import type { RequestHandler } from 'express';
import type { Metrics } from './metrics.js';
import { onceAnswered } from './onceAnswered.js';

const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * Counts the write API's commands (every POST) by route pattern and status, and the ones answered
 * from an idempotency record. Mounted before the write routes; counts when the command has answered,
 * though its caller hung up.
 */
export const commandMetrics = (metrics: Metrics): RequestHandler => (request, response, next) => {
  if (request.method !== 'POST') {
    next();
    return;
  }
  onceAnswered(response, () => {
    // The matched route's pattern keeps the label set small (`/v1/accounts/:id/freeze`).
    const route = typeof request.route?.path === 'string' ? `${request.baseUrl}${request.route.path}` : 'unmatched';
    metrics.commands.inc({ route, status: String(response.statusCode) });
    if (response.get(IDEMPOTENT_REPLAYED_HEADER) === 'true') metrics.duplicateCommands.inc({ route });
  });
  next();
};
