import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { SoleWriterLockHeldError } from '@folio/shared';
import { createWriteApi } from '../../src/writeApi.js';
import { openTempStore, type TempStore } from './apiHarness.js';

describe('write API on the embedded store: one process per log', () => {
  let temp: TempStore;

  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  it('refuses to start beside another write API on the same log, and starts once that one has stopped', async () => {
    const soleWriterLock = join(dirname(temp.path), 'write-api.lock');
    const first = createWriteApi({ eventStore: temp.store, nodeId: 1, soleWriterLock, onError: () => undefined });
    const second = createWriteApi({ eventStore: temp.openAnother(), nodeId: 2, soleWriterLock, onError: () => undefined });
    await first.start();
    try {
      let refused: unknown;
      await second.start().catch((error: unknown) => (refused = error));
      expect(refused).to.be.instanceOf(SoleWriterLockHeldError);
    } finally {
      await first.stop();
    }
    await second.start();
    await second.stop();
  });
});
