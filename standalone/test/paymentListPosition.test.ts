import { expect } from 'chai';
import { startFolioInProcess, type RunningFolio } from './fixtures/inProcessFolio.js';

/** `npm start` answers `GET /v1/payments` from the read model ahead of the write API: with the same read-your-writes. */
describe('npm start: the payment list waits for a position as every read does', function () {
  this.timeout(20_000);
  let running: RunningFolio;

  before(async () => {
    running = await startFolioInProcess('folio-payment-list-', { FOLIO_READ_WAIT_MS: '300' });
  });
  after(() => running.stop());

  it('refuses a position beyond the head of the log as never written, and answers one past only events no read model takes', async () => {
    const head = (await running.system.eventStore.headPosition()) ?? 0n;
    const beyond = await fetch(`${running.baseUrl}/v1/payments?position=${head + 1_000_000n}`, { headers: running.auth });
    expect(beyond.status).to.equal(400);
    expect(((await beyond.json()) as { detail: string }).detail).to.contain('was never written');

    // The bootstrap key's events are the last in the log: no read model takes them.
    const started = Date.now();
    const answered = await fetch(`${running.baseUrl}/v1/payments?position=${head}`, { headers: running.auth });
    expect(answered.status).to.equal(200);
    expect(Date.now() - started, 'answered at once, not after the wait').to.be.below(250);
  });
});
