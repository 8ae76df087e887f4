import { Router } from 'express';
import type { EventStore } from '../eventStore/eventStore.js';

export interface HealthDependencies {
  version: string;
  eventStore: EventStore;
}

/** `GET /healthz`: the process is up and can reach its event store. */
export const healthRouter = ({ version, eventStore }: HealthDependencies): Router => {
  const router = Router();
  router.get('/healthz', async (_request, response) => {
    try {
      const head = await eventStore.headPosition();
      response.json({
        status: 'ok',
        version,
        eventStore: { kind: eventStore.kind, headPosition: head === undefined ? null : head.toString() },
      });
    } catch (error) {
      response.status(503).json({
        status: 'unavailable',
        version,
        eventStore: { kind: eventStore.kind, error: (error as Error).message },
      });
    }
  });
  return router;
};
