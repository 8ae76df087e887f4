import { expect } from 'chai';
import { isSystemEventType, ledgerCatalog, type RecordedEvent } from '@folio/shared';
import { idempotencyCatalog } from '../../src/idempotency/index.js';
import { RECOVERY_CHECKPOINT_STREAM, recoveryCheckpointCatalog } from '../../src/movements/recoveryCheckpoint.js';
import { createApiHarness, readAllEvents, uniqueKey, type ApiHarness } from './apiHarness.js';

/**
 * The write side encodes the events it builds without a zod pass (the catalog's trusted path).
 * What it stores must be exactly what the schemas' own encoding gives for the same events, so
 * readers, hashes and upcasters see one format whichever path wrote an event.
 */
describe('write API: the events it stores are what their schemas encode', () => {
  let harness: ApiHarness;
  let events: RecordedEvent[];

  before(async () => {
    harness = await createApiHarness();
    const { api } = harness;
    const payer = await api.openFundedAccount('100000');
    const merchant = (await api.openAccount({ kind: 'merchant', overdraftLimit: '500' })).id as string;
    const frozen = (await api.openAccount()).id as string;
    expect((await api.post(`/v1/accounts/${frozen}/freeze`, { reason: 'checks' })).status).to.equal(200);
    const closing = (await api.openAccount()).id as string;
    expect((await api.post(`/v1/accounts/${closing}/close`, {})).status).to.equal(200);
    const thawed = (await api.openAccount()).id as string;
    expect((await api.post(`/v1/accounts/${thawed}/freeze`, {})).status).to.equal(200);
    expect((await api.post(`/v1/accounts/${thawed}/unfreeze`, {})).status).to.equal(200);

    const completed = await api.transfer(payer, merchant, '1050', {
      extra: { reference: 'invoice 17', description: 'March rent', metadata: { orderId: 'A-1', note: 'é ✓' } },
    });
    expect(completed.status, completed.text).to.equal(201);
    const failed = await api.transfer(payer, frozen, '20');
    expect(failed.body.status, failed.text).to.equal('failed');
    expect((await api.transfer(merchant, payer, '999999')).status).to.equal(422);
    const batch = await api.post(
      '/v1/transfers/batch',
      { transfers: [{ fromAccountId: payer, toAccountId: thawed, amount: '7', currency: 'EUR' }] },
      { key: uniqueKey('batch') },
    );
    expect(batch.status, batch.text).to.equal(200);
    events = await readAllEvents(harness.store);
  });
  after(() => harness.close());

  it('covers every event type a transfer, a deposit, a rejection and an account lifecycle write', () => {
    const types = new Set(events.map((event) => event.type));
    for (const type of [
      'AccountOpened',
      'AccountFrozen',
      'AccountUnfrozen',
      'AccountClosed',
      'AccountDebited',
      'AccountCredited',
      'TransferCompleted',
      'TransferFailed',
      'DepositCompleted',
      'IdempotentRequestStarted',
      'IdempotentRequestCompleted',
    ]) {
      expect(types, type).to.include(type);
    }
  });

  it('stores data and metadata equal to the schema encoding of the decoded event', () => {
    // The store's own events (stream metadata) are not the write side's.
    for (const recorded of events.filter((event) => !isSystemEventType(event.type))) {
      const catalog = recorded.streamName.startsWith('idempotency-')
        ? idempotencyCatalog
        : recorded.streamName === RECOVERY_CHECKPOINT_STREAM
          ? recoveryCheckpointCatalog
          : ledgerCatalog;
      const decoded = catalog.decode(recorded) as Parameters<typeof catalog.encode>[0];
      const encoded = catalog.encode(decoded as never);
      expect(recorded.data, `${recorded.type} data`).to.deep.equal(encoded.data);
      expect(recorded.metadata, `${recorded.type} metadata`).to.deep.equal(encoded.metadata);
    }
  });
});
