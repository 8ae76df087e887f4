import { collect, statementCatalog, type EventStore, type StatementEvent } from '@folio/shared';

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
