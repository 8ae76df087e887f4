import { readFileSync } from 'node:fs';
import express, { type Express, type Router } from 'express';
import { correlationId, healthRouter, notFoundHandler, problemDetailsHandler, type EventStore } from '@folio/shared';
import type { WriteApi } from '@folio/command-side';
import { createWebUi } from '@folio/query-side';

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export interface FolioAppDependencies {
  eventStore: EventStore;
  writeApi: WriteApi;
  /** The read API (`createReadApi` of `@folio/query-side`). */
  readApi: Router;
}

/** Every HTTP surface of Folio on one express app: what the single-process default serves. */
export const createFolioApp = ({ eventStore, writeApi, readApi }: FolioAppDependencies): Express => {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(correlationId());
  app.use(healthRouter({ version: packageJson.version, eventStore }));
  app.use(writeApi.router);
  app.use(readApi);
  app.use(createWebUi());
  app.use(notFoundHandler());
  app.use(problemDetailsHandler());
  return app;
};
