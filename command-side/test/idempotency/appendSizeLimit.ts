import { Buffer } from 'node:buffer';
import { InvalidArgumentError, type AppendOptions, type EventStore, type EventToAppend } from '@folio/shared';

/**
 * What EventStoreDB counts against its `MaxAppendSize`: every event of one append, its data, its
 * metadata and its type together (KurrentDB counts all three since 25.0; older servers the data only).
 */
export const appendBytes = (events: readonly EventToAppend[]): number =>
  events.reduce(
    (total, event) =>
      total +
      Buffer.byteLength(event.type) +
      Buffer.byteLength(JSON.stringify(event.data)) +
      (event.metadata === undefined ? 0 : Buffer.byteLength(JSON.stringify(event.metadata))),
    0,
  );

/**
 * `store` refusing, as EventStoreDB does, any append larger than `maxAppendBytes`: nothing is
 * written, and the error is the one the EventStoreDB adapter turns the client's
 * `MaxAppendSizeExceededError` into. `appended` sees the size of every append let through.
 */
export const refusingAppendsOver = (
  store: EventStore,
  maxAppendBytes: number,
  appended: (streamName: string, bytes: number) => void = () => {},
): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return async (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) => {
          const bytes = appendBytes(events);
          if (bytes > maxAppendBytes) {
            throw new InvalidArgumentError(
              `the append to ${streamName} is larger than EventStoreDB's maximum append size of ${maxAppendBytes} bytes ` +
                '(its MaxAppendSize setting): nothing was written',
            );
          }
          const result = await target.appendToStream(streamName, events, options);
          appended(streamName, bytes);
          return result;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
