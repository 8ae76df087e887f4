import type { DocumentStore, EventStore, GlobalPosition, SearchIndex } from '@folio/shared';
import { balancesProjection } from './balances/balancesProjection.js';
import { transactionHistoryProjection } from './history/transactionHistoryProjection.js';
import type { ProjectionDefinition } from './runtime/projection.js';
import { createProjector, type Projector, type ProjectorStatus } from './runtime/projector.js';

/** Every read model the query side serves. */
export const projectionDefinitions: readonly ProjectionDefinition[] = [balancesProjection, transactionHistoryProjection];

export interface ProjectionsOptions {
  eventStore: EventStore;
  documents: DocumentStore;
  searchIndex: SearchIndex;
  onError?: (error: unknown) => void;
}

/** The read side's projectors, run together: in `npm start`'s process or on their own. */
export const createProjections = (options: ProjectionsOptions) => {
  const projectors: Projector[] = projectionDefinitions.map((definition) =>
    createProjector({ ...options, definition }),
  );
  return {
    projectors,
    /** Starts every projector; resolves once all have caught up with the log. */
    start: async (): Promise<void> => {
      await Promise.all(projectors.map((projector) => projector.start()));
    },
    /** True once every read model reflects the log up to `position`; false after `timeoutMs`. */
    waitFor: async (position: GlobalPosition, timeoutMs: number): Promise<boolean> =>
      (await Promise.all(projectors.map((projector) => projector.waitFor(position, timeoutMs)))).every(Boolean),
    status: (): ProjectorStatus[] => projectors.map((projector) => projector.status()),
    stop: async (): Promise<void> => {
      await Promise.all(projectors.map((projector) => projector.stop()));
    },
  };
};

export type Projections = ReturnType<typeof createProjections>;
