import { collect, statementCatalog, type EventStore, type StatementEvent } from '@folio/shared';
import { expect } from 'chai';

/** A statement file's content as the import service reads it: a stream of bytes. */
export async function* bytesOf(content: Buffer | string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(content);
}

/** The rows the log holds, recorded or restated, in log order. */
export const rowEvents = async (store: EventStore) =>
  (await collect(store.readAll()))
    .filter((event) => event.streamName.startsWith('statement'))
    .map((recorded) => statementCatalog.decode(recorded))
    .filter((event): event is Extract<StatementEvent, { type: 'StatementRowRecorded' | 'StatementRowRestated' }> =>
      event.type === 'StatementRowRecorded' || event.type === 'StatementRowRestated',
    );

/** The log holds one restatement, of the row `rowKey`, whose net went from `from` to `to` and nothing else changed. */
export const expectNetRestated = async (store: EventStore, rowKey: string, from: bigint, to: bigint): Promise<void> => {
  const restatements = (await rowEvents(store)).filter(({ type }) => type === 'StatementRowRestated');
  expect(restatements).to.have.length(1);
  const [restatement] = restatements;
  if (restatement?.type !== 'StatementRowRestated') expect.fail('no restatement');
  expect(restatement.data.rowKey).to.equal(rowKey);
  expect(restatement.data.previous.net?.amount).to.equal(from);
  expect(restatement.data.row.net?.amount).to.equal(to);
  expect(restatement.data.changedFields).to.deep.equal(['net']);
};
