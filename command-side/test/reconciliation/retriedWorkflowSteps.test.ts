import { expect } from 'chai';
import { reconciliationStream, StoreUnavailableError, type AppendOptions, type EventStore, type EventToAppend } from '@folio/shared';
import type { KnownDiscrepancy } from '../../src/reconciliation/discrepancyLookup.js';
import { createApiHarness, readAllEvents, uniqueKey, type ApiHarness } from '../api/apiHarness.js';
import { knownDiscrepancies } from './knownDiscrepancies.js';

const discrepancy = '7'.repeat(32);
const acknowledgedOne = '6'.repeat(32);
const path = (action: string, id = discrepancy) => `/v1/reconciliation/discrepancies/${id}/${action}`;

/** `store`, losing the answer of the next append of an event of type `losing.type`: it lands, and the caller is told the store is down. */
const losingAnswer = (store: EventStore, losing: { type: string | undefined }): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return async (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) => {
          const result = await target.appendToStream(streamName, events, options);
          if (events.some(({ type }) => type === losing.type)) {
            losing.type = undefined;
            throw new StoreUnavailableError('the store is unreachable');
          }
          return result;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

describe('a workflow step whose answer was lost once it was recorded, retried after the read model stopped showing its discrepancy open', () => {
  let harness: ApiHarness;
  const known: Record<string, Partial<KnownDiscrepancy>> = { [discrepancy]: {}, [acknowledgedOne]: {} };
  const losing: { type: string | undefined } = { type: undefined };

  before(async () => {
    harness = await createApiHarness({ discrepancies: knownDiscrepancies(known) }, (store) => losingAnswer(store, losing));
  });
  const workflowOf = async (id: string) =>
    (await readAllEvents(harness.store)).filter(({ streamName }) => streamName === reconciliationStream(id)).map(({ type }) => type);
  after(() => harness.close());

  it('answers the retry of a resolution moving no money with the resolution it recorded, recording nothing more', async () => {
    const key = uniqueKey();
    const body = { resolution: 'no_action', reason: 'explained by the provider' };
    losing.type = 'DiscrepancyResolved';
    const cut = await harness.api.post(path('resolve'), body, { key });
    expect(cut.status, cut.text).to.equal(503);
    // The read model has since reached the resolution.
    known[discrepancy] = { status: 'resolved' };

    const retried = await harness.api.post(path('resolve'), body, { key });
    expect(retried.status, retried.text).to.equal(200);
    expect(retried.body).to.include({ id: discrepancy, resolution: 'no_action', journalId: null });
    expect(await workflowOf(discrepancy)).to.deep.equal(['DiscrepancyResolved']);
  });

  it('answers the retry of an acknowledgement with the acknowledgement it recorded, recording nothing more', async () => {
    const key = uniqueKey();
    const body = { reason: 'seen' };
    losing.type = 'DiscrepancyAcknowledged';
    const cut = await harness.api.post(path('acknowledge', acknowledgedOne), body, { key });
    expect(cut.status, cut.text).to.equal(503);
    // Meanwhile later events removed the discrepancy's cause.
    known[acknowledgedOne] = { status: 'cleared' };

    const retried = await harness.api.post(path('acknowledge', acknowledgedOne), body, { key });
    expect(retried.status, retried.text).to.equal(200);
    expect(retried.body).to.include({ id: acknowledgedOne, acknowledged: true });
    expect(await workflowOf(acknowledgedOne)).to.deep.equal(['DiscrepancyAcknowledged']);
  });
});
