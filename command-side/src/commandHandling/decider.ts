import type { EventMetadata } from '@folio/shared';

/**
 * A decider is the pure heart of an aggregate: `decide` turns a command and the current state into
 * new events (or throws a typed error to reject it), `evolve` folds one event into the state.
 * No I/O, no clock, no randomness: time and ids arrive inside the command.
 */
export interface Decider<State, Command, Event> {
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  decide: (command: Command, state: State) => readonly Event[];
}

/** What every command carries besides its payload: who, why and when. */
export interface CommandContext {
  /** Unique per command; a retried command keeps its id, which makes it idempotent. */
  commandId: string;
  correlationId: string;
  causationId?: string;
  actor: string;
  /** Business time of the command. */
  now: Date;
}

/** The metadata of a command's events; `commandDigest` is what the command asked (see `commandDigestOf`). */
export const eventMetadataOf = (context: CommandContext, commandDigest: string): EventMetadata => ({
  $correlationId: context.correlationId,
  ...(context.causationId === undefined ? {} : { $causationId: context.causationId }),
  actor: context.actor,
  occurredAt: context.now.toISOString(),
  commandId: context.commandId,
  commandDigest,
});

/** An event as a decider sees it: its type and data (the envelope is the handler's business). */
export type EventPayload<E> = E extends { type: infer T; data: infer D } ? { type: T; data: D } : never;
