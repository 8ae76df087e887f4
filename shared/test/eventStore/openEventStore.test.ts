import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { collect, loadConfig, openEventStore, StoreUnavailableError } from '../../src/index.js';

describe('openEventStore', () => {
  it('gives up on an EventStoreDB that never answers after the timeouts the configuration sets', async () => {
    // Accepts connections and never answers, as a stalled leader does.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const dataDir = mkdtempSync(join(tmpdir(), 'folio-open-event-store-'));
    const config = loadConfig({
      FOLIO_DATA_DIR: dataDir,
      EVENTSTORE_URL: `esdb://127.0.0.1:${port}?tls=false`,
      FOLIO_EVENTSTORE_READ_IDLE_SECONDS: '0.3',
      FOLIO_EVENTSTORE_WRITE_TIMEOUT_SECONDS: '0.3',
    });
    const store = openEventStore(config);
    try {
      for (const [what, attempt] of [
        ['append', () => store.appendToStream(`probe-${randomUUID()}`, [{ id: randomUUID(), type: 'Probed', data: {} }])],
        ['read', () => collect(store.readStream(`probe-${randomUUID()}`))],
      ] as const) {
        const started = Date.now();
        const failure = await attempt().then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(failure, what).to.be.instanceOf(StoreUnavailableError);
        // The defaults wait 10 s.
        expect(Date.now() - started, what).to.be.below(5_000);
      }
    } finally {
      await store.close().catch(() => undefined);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
