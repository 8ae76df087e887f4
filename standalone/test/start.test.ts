import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startService } from './fixtures/serviceProcess.js';

describe('npm start: the whole system on the embedded default', function () {
  this.timeout(20_000);

  it('creates its data directory on first run, answers /healthz, offers the demo, and stops cleanly on SIGTERM', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'folio-start-')), 'nested', 'data');
    const folio = await startService(new URL('../src/main.js', import.meta.url), 'folio', { FOLIO_DATA_DIR: dataDir });
    try {
      const response = await fetch(`${folio.url}/healthz`);
      expect(response.status).to.equal(200);
      const body = (await response.json()) as { status: string; version: string; eventStore: { kind: string } };
      expect(body.status).to.equal('ok');
      expect(body.version).to.match(/^\d+\.\d+\.\d+/);
      expect(body.eventStore.kind).to.equal('sqlite');
      expect(existsSync(join(dataDir, 'events.sqlite')), 'event log file in the data directory').to.equal(true);
      expect(existsSync(join(dataDir, 'readmodels.sqlite')), 'read models file in the data directory').to.equal(true);
      const hint = folio.lines
        .map((line) => JSON.parse(line) as { msg: string; demo?: string })
        .find((entry) => entry.msg.includes('npm run demo'));
      expect(hint?.demo, 'how to fill the empty ledger').to.equal(`FOLIO_URL=http://localhost:${folio.port} npm run demo`);
      const page = await fetch(`${folio.url}/`);
      expect(page.status, 'the UI at /').to.equal(200);
    } finally {
      expect(await folio.stop(), 'exit code after SIGTERM').to.equal(0);
    }
  });
});
