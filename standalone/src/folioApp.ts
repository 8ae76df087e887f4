import { readFileSync } from 'node:fs';
import express, { type Express } from 'express';
import { healthRouter, type EventStore } from '@folio/shared';

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export interface FolioAppDependencies {
  eventStore: EventStore;
}

/** Every HTTP surface of Folio on one express app: what the single-process default serves. */
export const createFolioApp = ({ eventStore }: FolioAppDependencies): Express => {
  const app = express();
  app.disable('x-powered-by');
  app.use(healthRouter({ version: packageJson.version, eventStore }));
  return app;
};
