import type { Application } from 'express';
import { FolioError } from '../errors/folioError.js';

/** Readiness refused because the process is shutting down: it finishes what it has and takes nothing new. */
export class ShuttingDownError extends FolioError {
  readonly type = 'shutting-down';
  readonly status = 503;

  constructor() {
    super('the process is shutting down: it finishes the requests in flight and takes no new ones; send requests to another instance');
  }
}

/** The apps whose process has begun its graceful shutdown. */
const drainingApps = new WeakSet<Application>();

/** From now on `app` is draining: its readiness answers 503 while its requests in flight finish. */
export const beginDraining = (app: Application): void => {
  drainingApps.add(app);
};

export const isDraining = (app: Application): boolean => drainingApps.has(app);
