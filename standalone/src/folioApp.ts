import type { Express, Router } from 'express';
import { createServiceApp, type EventStore } from '@folio/shared';
import type { WriteApi } from '@folio/command-side';

export interface FolioAppDependencies {
  eventStore: EventStore;
  writeApi: WriteApi;
  /** The read API (`createReadApi` of `@folio/query-side`). */
  readApi: Router;
}

/** Every HTTP surface of Folio on one express app: what the single-process default serves. */
export const createFolioApp = ({ eventStore, writeApi, readApi }: FolioAppDependencies): Express =>
  createServiceApp({ eventStore, routers: [writeApi.router, readApi] });
