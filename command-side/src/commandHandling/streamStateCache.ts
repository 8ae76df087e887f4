import type { GlobalPosition } from '@folio/shared';

/** A stream's folded state as the command handler keeps it between commands. */
export interface StreamState<State> {
  state: State;
  /** Last revision folded into `state`; undefined while the stream has no events. */
  revision: bigint | undefined;
  position: GlobalPosition | undefined;
  /** Recent command ids and where their events ended, oldest first. */
  recentCommands: Map<string, RecordedCommand>;
  /**
   * Position of the latest event whose command left `recentCommands`: a command id not found there
   * may still have been applied at or before it. Undefined while every command is remembered.
   */
  forgottenThrough: GlobalPosition | undefined;
}

/** Where a command's events ended, and the digest of what it asked (absent on events written before digests). */
export interface RecordedCommand {
  revision: bigint;
  position: GlobalPosition;
  digest: string | undefined;
}

/** Least-recently-used cache of stream states, bounded by a number of streams. */
export const createStreamStateCache = <State>(capacity: number) => {
  const entries = new Map<string, StreamState<State>>();
  return {
    get(streamName: string): StreamState<State> | undefined {
      const entry = entries.get(streamName);
      if (entry !== undefined) {
        entries.delete(streamName);
        entries.set(streamName, entry);
      }
      return entry;
    },
    set(streamName: string, entry: StreamState<State>): void {
      entries.delete(streamName);
      entries.set(streamName, entry);
      if (entries.size > capacity) entries.delete(entries.keys().next().value!);
    },
    delete(streamName: string): void {
      entries.delete(streamName);
    },
  };
};
