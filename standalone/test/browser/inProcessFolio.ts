/** The system as `npm start` composes it, in-process on a temp data directory, on a free port. */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@folio/shared';
import { openFolioSystem, type FolioSystem } from '../../src/folioSystem.js';

export interface RunningFolio {
  system: FolioSystem;
  baseUrl: string;
  stop(): Promise<void>;
}

export const startFolioInProcess = async (prefix: string): Promise<RunningFolio> => {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const system = await openFolioSystem(loadConfig({ FOLIO_DATA_DIR: dataDir }), { readWaitMs: 10_000 });
  const server = await new Promise<Server>((resolve) => {
    const listening = system.app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    system,
    baseUrl: `http://127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await system.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
