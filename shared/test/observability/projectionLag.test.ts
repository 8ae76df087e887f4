import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createLagMonitor, openSqliteEventStore, type ProjectionProgress } from '../../src/index.js';

describe('projection lag', () => {
  it('is zero at the head of the log, and counts positions and seconds behind it otherwise', async () => {
    const store = openSqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'folio-lag-')), 'events.sqlite') });
    let clock = 1_000;
    const append = async (stream: string) =>
      (await store.appendToStream(stream, [{ id: crypto.randomUUID(), type: 'Noted', data: { at: clock++ } }])).position;
    try {
      await append('a-1');
      const progress: ProjectionProgress[] = [
        { name: 'current', position: undefined, lastEventAt: undefined },
        { name: 'never-ran', position: undefined, lastEventAt: undefined },
      ];
      const monitor = createLagMonitor({ eventStore: store, progress: () => progress });
      await new Promise((resolve) => setTimeout(resolve, 30));
      const last = await append('a-2');

      progress[0] = { name: 'current', position: last, lastEventAt: new Date() };
      const lags = await monitor.refresh();
      expect(lags[0]).to.deep.equal({ name: 'current', positions: 0n, seconds: 0 });
      expect(lags[1]!.name).to.equal('never-ran');
      expect(lags[1]!.positions).to.equal(last);
      expect(lags[1]!.seconds).to.be.greaterThan(0.02).and.lessThan(5);
      expect(monitor.worstSeconds()).to.equal(lags[1]!.seconds);
    } finally {
      await store.close();
    }
  });

  it('is zero for a projection behind the head only by events it skips, as a filtered subscription on EventStoreDB leaves it', async () => {
    const store = openSqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'folio-lag-')), 'events.sqlite') });
    const append = async (stream: string) =>
      (await store.appendToStream(stream, [{ id: crypto.randomUUID(), type: 'Noted', data: {} }])).position;
    const filter = { streamNamePrefixes: ['wanted-'] };
    try {
      const read = await append('wanted-1');
      await new Promise((resolve) => setTimeout(resolve, 30));
      await append('skipped-1');
      const progress: ProjectionProgress[] = [
        // Its last event could be hours old: what counts is how old the first event it lacks is.
        { name: 'parked', position: read, lastEventAt: new Date(Date.now() - 3_600_000), filter },
        { name: 'never-ran', position: undefined, lastEventAt: undefined, filter: { streamNamePrefixes: ['other-'] } },
        { name: 'unfiltered', position: read, lastEventAt: new Date(Date.now() - 30) },
      ];
      const monitor = createLagMonitor({ eventStore: store, progress: () => progress });
      const [parked, neverRan, unfiltered] = await monitor.refresh();
      expect(parked).to.deep.equal({ name: 'parked', positions: 0n, seconds: 0 });
      expect(neverRan).to.deep.equal({ name: 'never-ran', positions: 0n, seconds: 0 });
      expect(unfiltered!.positions > 0n).to.equal(true);

      const wanted = await append('wanted-2');
      const [behind] = await monitor.refresh();
      expect(behind!.positions).to.equal(wanted - read);
      expect(behind!.seconds).to.be.within(0, 5);
      await new Promise((resolve) => setTimeout(resolve, 30));
      await append('skipped-2');
      const [older] = await monitor.refresh();
      expect(older!.positions > wanted - read).to.equal(true);
      expect(older!.seconds).to.be.greaterThan(0.02).and.lessThan(5);
    } finally {
      await store.close();
    }
  });
});
