import { expect } from 'chai';
import {
  accountAsOf,
  accountStream,
  CHECKPOINT_STREAM,
  createAuditRuntime,
  generatedSigner,
  openSqliteEventStore,
  StoreUnavailableError,
  verifyEventStore,
  type EventStore,
  type StreamMetadata,
} from '../../src/index.js';
import { openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';
import { useTamperedCopies } from './tamperedCopies.js';

/**
 * A stream of the books deleted, tombstoned or hidden by its metadata behind the chained store's
 * back keeps its events in `$all`, but every as-of query reads the stream itself: `verify` must
 * fail, naming the stream, rather than prove books the auditor cannot read.
 */
describe('audit: verify finds a stream of the books that no longer reads back whole', () => {
  let audit: AuditStore;
  const signer = generatedSigner();
  const copies = useTamperedCopies('folio-streams-read-back');
  const accountId = '1000001';

  before(async () => {
    audit = openAuditStore();
    await writeHistory(audit.store, { accounts: 3, movements: 20, seed: 7 });
    await createAuditRuntime({ eventStore: audit.store, signer, checkpointEvery: 20, snapshotEvery: 5, clock: audit.now }).runOnce({ force: true });
    await copies.keep(audit);
  });
  after(() => audit.dispose());

  /** Changes the copy through the bare store, as anyone who can open its file could. */
  const withWritableCopy = async (change: (store: EventStore) => Promise<unknown>): Promise<void> => {
    const store = openSqliteEventStore({ path: copies.path });
    try {
      await change(store);
    } finally {
      await store.close();
    }
  };

  const hiding: [string, string, (store: EventStore) => Promise<unknown>][] = [
    ['deleted', accountStream(accountId), (store) => store.deleteStream(accountStream(accountId))],
    ['tombstoned', accountStream(accountId), (store) => store.tombstoneStream(accountStream(accountId))],
    ...(
      [
        ['truncated before revision 3', { truncateBefore: 3n }],
        ['kept to its last 2 events', { maxCount: 2 }],
        ['given an expiry its events are past', { maxAge: 1 }],
      ] as [string, StreamMetadata][]
    ).map(([what, metadata]): [string, string, (store: EventStore) => Promise<unknown>] => [
      what,
      accountStream(accountId),
      (store) => store.setStreamMetadata(accountStream(accountId), metadata),
    ]),
    ['deleted (the checkpoints: none would be checked)', CHECKPOINT_STREAM, (store) => store.deleteStream(CHECKPOINT_STREAM)],
  ];

  for (const [what, streamName, change] of hiding) {
    it(`fails naming the first event of a stream ${what}`, async () => {
      await withWritableCopy(change);
      const report = await copies.withCopy((store) => verifyEventStore(store, { trustedKeyId: signer.keyId }));
      expect(report.ok, JSON.stringify(report.problems)).to.equal(false);
      expect(report.firstBroken).to.include({ streamName, revision: '0' });
      expect(report.firstBroken!.reason).to.match(/as-of queries/);
    });
  }

  it('still verifies a stream given metadata that hides none of its events, which reads back as before', async () => {
    await withWritableCopy((store) => store.setStreamMetadata(accountStream(accountId), { custom: { owner: 'finance' } }));
    const report = await copies.withCopy(async (store) => {
      expect((await accountAsOf(store, accountId, {})).revision > 3n).to.equal(true);
      return verifyEventStore(store, { trustedKeyId: signer.keyId });
    });
    expect(report.problems).to.deep.equal([]);
    expect(report.ok).to.equal(true);
  });

  it('fails with the store\'s error when a stream cannot be read back, as when the log cannot be read', async () => {
    const outcome = await copies.withCopy((store) => {
      const failing: EventStore = {
        ...store,
        readStream: (streamName, options) =>
          streamName === accountStream(accountId)
            ? (async function* () {
                throw new StoreUnavailableError('the store did not answer');
              })()
            : store.readStream(streamName, options),
      };
      return verifyEventStore(failing, { trustedKeyId: signer.keyId }).then(
        () => undefined,
        (error: unknown) => error,
      );
    });
    expect(outcome).to.be.instanceOf(StoreUnavailableError);
  });
});
