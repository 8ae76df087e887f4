import type { GlobalPosition } from '@folio/shared';
import type { ProjectorStatus } from './projector.js';

/** The position every read model reflects at least: `undefined` until each has committed something. */
export const slowestPosition = (statuses: readonly ProjectorStatus[]): GlobalPosition | undefined => {
  let slowest: GlobalPosition | undefined;
  for (const { position } of statuses) {
    if (position === undefined) return undefined;
    if (slowest === undefined || position < slowest) slowest = position;
  }
  return slowest;
};
