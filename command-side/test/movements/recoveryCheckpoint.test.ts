import { expect } from 'chai';
import fc from 'fast-check';
import {
  CHAINED_STREAM_PREFIXES,
  isChainedStream,
  isLedgerStream,
  isMerkleLeafStream,
  journalKinds,
  type EventToAppend,
  type JsonObject,
  type RecordedEvent,
} from '@folio/shared';
import { OPEN_JOURNALS_FOLD_VERSION, type OpenJournal } from '../../src/movements/openJournals.js';
import {
  decodeRecoveryCheckpoint,
  encodeRecoveryCheckpoint,
  openJournalsCheckpointed,
  RECOVERY_CHECKPOINT_STREAM,
  recoveryCheckpointCatalog,
} from '../../src/movements/recoveryCheckpoint.js';
import { CHECKPOINTS_KEPT, limitCheckpointStream, readLatestCheckpoint } from '../../src/recovery/checkpointedLogFold.js';
import { NOW, openTempStore, rejectionOf } from '../commandHandling/testSupport.js';

/** What the store gives back for an appended event: its data and metadata through JSON. */
const asRecorded = (event: EventToAppend, overrides: Partial<RecordedEvent> = {}): RecordedEvent => ({
  streamName: RECOVERY_CHECKPOINT_STREAM,
  id: event.id,
  type: event.type,
  revision: 0n,
  position: 1n,
  created: NOW,
  data: JSON.parse(JSON.stringify(event.data)) as JsonObject,
  metadata: JSON.parse(JSON.stringify(event.metadata)) as JsonObject,
  ...overrides,
});

const snowflake = fc.bigInt({ min: 1n, max: 2n ** 62n }).map(String);
const instant = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2040-01-01T00:00:00Z'), noInvalidDate: true });

const openJournal: fc.Arbitrary<OpenJournal> = fc.record({
  kind: fc.constantFrom(...journalKinds),
  id: snowflake,
  movement: fc.record(
    {
      fromAccountId: snowflake,
      toAccountId: snowflake,
      amount: fc.bigInt({ min: 1n, max: 10n ** 30n }),
      currency: fc.constantFrom('EUR' as const, 'USD' as const, 'JPY' as const),
      reference: fc.string(),
      description: fc.string(),
      // A record decoded by zod never holds `__proto__` (assigning it sets the prototype), so neither does a journal.
      metadata: fc.dictionary(fc.string({ minLength: 1 }).filter((key) => key !== '__proto__'), fc.string()),
      requestedAt: instant.map((date) => date.toISOString()),
    },
    { requiredKeys: ['fromAccountId', 'toAccountId', 'amount', 'currency', 'requestedAt'] },
  ),
  firstLegPosition: fc.bigInt({ min: 0n, max: 2n ** 63n }),
  openedAt: instant,
  inTransit: fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
});

const sampleJournal: OpenJournal = {
  kind: 'transfer',
  id: '7300000000000000700',
  movement: { fromAccountId: '7300000000000000011', toAccountId: '7300000000000000012', amount: 300n, currency: 'EUR', requestedAt: NOW.toISOString() },
  firstLegPosition: 42n,
  openedAt: NOW,
  inTransit: 300n,
};

describe('recovery checkpoint: codec and stream', () => {
  it('stores exactly what the checkpoint schema encodes, without its zod pass', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n }), fc.array(openJournal, { maxLength: 5 }), (position, journals) => {
        const event = encodeRecoveryCheckpoint({ position, journals }, NOW);
        const validated = recoveryCheckpointCatalog.encode({
          type: openJournalsCheckpointed.type,
          id: event.id,
          version: openJournalsCheckpointed.version,
          data: { position, fold: OPEN_JOURNALS_FOLD_VERSION, journals },
          metadata: { $correlationId: 'movement-recovery', actor: 'folio:movement-recovery', occurredAt: NOW.toISOString() },
        });
        expect(event).to.deep.equal(validated);
      }),
    );
  });

  it('gives back, through JSON, exactly the open journals and position it was given', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n }), fc.array(openJournal, { maxLength: 5 }), (position, journals) => {
        const event = encodeRecoveryCheckpoint({ position, journals }, NOW);
        expect(decodeRecoveryCheckpoint(asRecorded(event))).to.deep.equal({ position, journals });
      }),
    );
  });

  it('refuses malformed checkpoints instead of seeding recovery with them', () => {
    const good = encodeRecoveryCheckpoint({ position: 42n, journals: [sampleJournal] }, NOW);
    const journal = (good.data.journals as JsonObject[])[0]!;
    const broken: Array<[string, Partial<RecordedEvent>]> = [
      ['no position', { data: { journals: [] } }],
      ['a position that is not an integer', { data: { position: '4.2', journals: [] } }],
      ['journals that are not a list', { data: { position: '42', journals: {} } }],
      ['an unknown journal kind', { data: { position: '42', journals: [{ ...journal, kind: 'gift' }] } }],
      ['a journal without its movement', { data: { position: '42', journals: [{ ...journal, movement: null }] } }],
      ['an amount in transit as a number', { data: { position: '42', journals: [{ ...journal, inTransit: 300 }] } }],
      ['an opening time that is not a date', { data: { position: '42', journals: [{ ...journal, openedAt: 'yesterday' }] } }],
      ['another event type', { type: 'BooksSnapshotted' }],
      ['a schema version from the future', { metadata: { ...good.metadata, schemaVersion: 2 } }],
      ['no metadata', { metadata: undefined }],
    ];
    for (const [what, overrides] of broken) {
      expect(() => decodeRecoveryCheckpoint(asRecorded(good, overrides)), what).to.throw();
    }
  });

  it('lives on a stream no ledger, audit chain or projection reads', () => {
    const projectionPrefixes = ['account-', 'transfer-', 'deposit-', 'journal-', 'payment-', 'payout-', 'statement-', 'statementrow-', 'reconciliation-'];
    expect(isLedgerStream(RECOVERY_CHECKPOINT_STREAM)).to.equal(false);
    expect(isChainedStream(RECOVERY_CHECKPOINT_STREAM)).to.equal(false);
    expect(isMerkleLeafStream(RECOVERY_CHECKPOINT_STREAM)).to.equal(false);
    for (const prefix of [...CHAINED_STREAM_PREFIXES, ...projectionPrefixes]) {
      expect(RECOVERY_CHECKPOINT_STREAM.startsWith(prefix), prefix).to.equal(false);
    }
  });

  describe('on the embedded store', () => {
    let temp: ReturnType<typeof openTempStore>;
    beforeEach(() => {
      temp = openTempStore();
    });
    afterEach(() => temp.dispose());

    it('reads none before the first is written, then the latest one', async () => {
      expect(await readLatestCheckpoint(temp.store, RECOVERY_CHECKPOINT_STREAM, decodeRecoveryCheckpoint)).to.equal(undefined);
      await temp.store.appendToStream(RECOVERY_CHECKPOINT_STREAM, [encodeRecoveryCheckpoint({ position: 7n, journals: [sampleJournal] }, NOW)]);
      await temp.store.appendToStream(RECOVERY_CHECKPOINT_STREAM, [encodeRecoveryCheckpoint({ position: 9n, journals: [] }, NOW)]);
      expect(await readLatestCheckpoint(temp.store, RECOVERY_CHECKPOINT_STREAM, decodeRecoveryCheckpoint)).to.deep.equal({ position: 9n, journals: [] });
    });

    it('throws when the latest one is malformed, even if an earlier one was fine', async () => {
      await temp.store.appendToStream(RECOVERY_CHECKPOINT_STREAM, [encodeRecoveryCheckpoint({ position: 7n, journals: [] }, NOW)]);
      const garbled = encodeRecoveryCheckpoint({ position: 9n, journals: [] }, NOW);
      await temp.store.appendToStream(RECOVERY_CHECKPOINT_STREAM, [{ ...garbled, data: { position: 'nine', journals: [] } }]);
      expect(await rejectionOf(readLatestCheckpoint(temp.store, RECOVERY_CHECKPOINT_STREAM, decodeRecoveryCheckpoint))).to.be.instanceOf(Error);
    });

    it('keeps the stream to the last few checkpoints, setting its limit only once', async () => {
      await limitCheckpointStream(temp.store, RECOVERY_CHECKPOINT_STREAM);
      await limitCheckpointStream(temp.store, RECOVERY_CHECKPOINT_STREAM);
      const { metadata, metastreamRevision } = await temp.store.getStreamMetadata(RECOVERY_CHECKPOINT_STREAM);
      expect(metadata.maxCount).to.equal(CHECKPOINTS_KEPT);
      expect(metastreamRevision).to.equal(0n);
    });
  });
});
