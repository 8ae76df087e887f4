import { expect } from 'chai';
import { journalStream, reconciliationStream, StoreUnavailableError, type AppendOptions, type EventStore, type EventToAppend } from '@folio/shared';
import type { KnownDiscrepancy } from '../../src/reconciliation/discrepancyLookup.js';
import { createApiHarness, expectProblem, readAllEvents, uniqueKey, type ApiHarness } from '../api/apiHarness.js';
import { knownDiscrepancies } from './knownDiscrepancies.js';

const discrepancy = 'a'.repeat(32);
const path = `/v1/reconciliation/discrepancies/${discrepancy}/resolve`;

/** `store`, refusing to record a resolution while `refusing.on` holds: as if it went down once the correcting journal had posted. */
const refusingResolutions = (store: EventStore, refusing: { on: boolean }): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) =>
          refusing.on && events.some(({ type }) => type === 'DiscrepancyResolved')
            ? Promise.reject(new StoreUnavailableError('the store is unreachable'))
            : target.appendToStream(streamName, events, options);
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

describe('a resolution cut short once its journal posted, retried after the read model stopped showing its discrepancy open', () => {
  let harness: ApiHarness;
  const known: Record<string, Partial<KnownDiscrepancy>> = { [discrepancy]: {} };
  const refusing = { on: true };

  before(async () => {
    harness = await createApiHarness({ discrepancies: knownDiscrepancies(known) }, (store) => refusingResolutions(store, refusing));
  });
  after(() => harness.close());

  it('finishes as it began, with its one journal, while a new request is refused', async () => {
    const key = uniqueKey();
    const body = { resolution: 'suspense', reason: 'ghost charge', correction: { amount: '250', currency: 'EUR', provider: 'sandbox' } };
    const cut = await harness.api.post(path, body, { key });
    expect(cut.status, cut.text).to.equal(503);
    // Meanwhile later events removed the discrepancy's cause.
    known[discrepancy] = { status: 'cleared' };
    refusing.on = false;

    expectProblem(await harness.api.post(path, { resolution: 'no_action', reason: 'gone' }, { key: uniqueKey() }), 409, 'discrepancy-not-open');
    const retried = await harness.api.post(path, body, { key });
    expect(retried.status, retried.text).to.equal(200);
    expect(retried.body).to.include({ resolution: 'suspense' });

    const events = await readAllEvents(harness.store);
    const workflow = events.filter(({ streamName }) => streamName === reconciliationStream(discrepancy));
    expect(workflow.map(({ type }) => type)).to.deep.equal(['DiscrepancyResolutionStarted', 'DiscrepancyResolved']);
    expect(workflow[1]!.data).to.include({ journalId: retried.body.journalId });
    const journals = events.filter((event) => event.type === 'JournalCompleted' && (event.data as any).metadata?.discrepancyId === discrepancy);
    expect(journals.map(({ streamName }) => streamName)).to.deep.equal([journalStream('correction', retried.body.journalId)]);
  });
});
