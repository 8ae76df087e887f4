import {
  deterministicEventId,
  StreamNotFoundError,
  WrongExpectedRevisionError,
  type EventStore,
  type EventToAppend,
  type GlobalPosition,
  type RecordedEvent,
} from '@folio/shared';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { commandDigestOf, withoutRunStamps } from './commandDigest.js';
import { CommandIdReusedError } from './commandErrors.js';
import { eventMetadataOf, type CommandContext, type Decider } from './decider.js';
import { createStreamStateCache, type RecordedCommand, type StreamState } from './streamStateCache.js';

/** What a decider emits: an event's type and data; the handler adds id and metadata. */
export interface DecidedEvent {
  type: string;
  data: unknown;
}

/** The encoding half of an event catalog: validates an envelope and maps it for the store. */
export interface EventCodec<Event extends DecidedEvent> {
  encode(envelope: Event & { id: string; version?: number; metadata: object }): EventToAppend;
  decode(recorded: RecordedEvent): Event & { metadata: object };
  definitionOf(type: string): { version: number } | undefined;
}

export interface CommandResult<State> {
  state: State;
  /** Revision of the stream after the command (its last event when it wrote any). */
  revision: bigint | undefined;
  /** Global position of the command's last event, or of the stream's last event for a no-op. */
  position: GlobalPosition | undefined;
  /** How many events the command appended (0 for a no-op or a replay). */
  appended: number;
  /** The command was already applied earlier (same command id, same content): nothing was written now. */
  replayed: boolean;
}

export interface HandleOptions {
  /**
   * No rule depends on the stream's state (system accounts have no balance constraint): where
   * the handler is the store's sole writer, its commands are appended without an
   * optimistic-concurrency check, so their postings never wait on a conflict.
   */
  unconstrained?: boolean;
  /**
   * Decide the command only if the stream is still at this revision when its turn comes; otherwise
   * it fails with `WrongExpectedRevisionError`. For a decision that rests on something read
   * outside the stream at that revision (money in transit, for a close).
   */
  expectedRevision?: bigint;
  /**
   * The command may have been applied already, by an earlier run, but not at or before this
   * global position (a movement's later leg comes after its first). The handler remembers only the
   * stream's last `dedupeWindow` commands: where it has forgotten some since this position, it
   * looks for the command in the log before deciding it again.
   */
  retrySince?: GlobalPosition;
}

export interface CommandHandlerOptions<State, Command, Event extends DecidedEvent> {
  eventStore: EventStore;
  codec: EventCodec<Event>;
  decider: Decider<State, Command, Event>;
  /** Streams whose state stays in memory (least recently used ones leave first). */
  cacheSize?: number;
  /**
   * Command ids remembered per stream to recognise a retried command. A retry from further back is
   * recognised only when it says since when it may have been applied (`HandleOptions.retrySince`).
   */
  dedupeWindow?: number;
  /**
   * What a command asks, compared between a command and the one recorded under its id: a retry
   * asks the same, another command under a used id is refused (`CommandIdReusedError`). Leave out
   * what a retry decides anew; by default the command's business time and the callback that caused
   * it (see `withoutRunStamps`).
   */
  commandIdentity?: (command: Command) => unknown;
  /** Attempts on a revision conflict before the command fails with it (more for unconstrained commands). */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * No other process appends to the store (the embedded store under its sole-writer lock). Only
   * then may unconstrained commands skip the revision check: with several writers, a command
   * another process appended meanwhile (two processes finishing the same movement) is in the
   * log but not in this process's cache, and only a revision conflict makes it seen before it
   * is appended a second time.
   */
  soleWriter?: boolean;
}

export interface CommandHandler<State, Command> {
  handle(
    streamName: string,
    command: Command,
    context: CommandContext,
    options?: HandleOptions,
  ): Promise<CommandResult<State>>;
  /**
   * The stream's state, folded from the log and cached. The cache is trusted unless `fresh` is
   * asked for (then whatever was appended since, by any process, is folded in first): a decision
   * on a stale state fails its revision check and is made again on fresh state.
   */
  load(streamName: string, options?: { fresh?: boolean }): Promise<StreamState<State>>;
}

interface Pending<Command, State> {
  command: Command;
  context: CommandContext;
  /** `commandDigestOf` what the command asks. */
  digest: string;
  unconstrained: boolean;
  expectedRevision: bigint | undefined;
  retrySince: GlobalPosition | undefined;
  resolve: (result: CommandResult<State>) => void;
  reject: (error: unknown) => void;
}

/** How many times longer than `maxAttempts` an unconstrained batch is retried on conflicts. */
const UNCONSTRAINED_ATTEMPTS_FACTOR = 4;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The one command handler of the write side: fold the stream, decide, append with the expected
 * revision, retry only on a revision conflict (bounded, jittered backoff).
 *
 * Commands for one stream queue up and are decided together against the evolving state, then
 * appended in one call: a hot account takes a burst of commands in one append instead of
 * failing all but one of them on conflicts. Each command still gets its own outcome: a
 * rejected command throws its own error and the others go through.
 *
 * The command id travels in a command's events' metadata with a digest of what the command asked:
 * a command retried with the same id finds itself among the stream's recent commands and is not
 * applied twice, and a different command under that id (another writer's decision, a caller's
 * mistake) is refused instead of being answered as done. The digest compares what was asked, not
 * what was decided: a retry decided on a later state would decide other events. Events written
 * before digests were recorded are taken as the command's, as before. The events' ids are derived
 * from the stream, the command id, the digest and their index: the store takes a retried append
 * for the first, but not another writer's different command, whose append then fails its revision
 * check.
 */
export const createCommandHandler = <State, Command, Event extends DecidedEvent>(
  options: CommandHandlerOptions<State, Command, Event>,
): CommandHandler<State, Command> => {
  const { eventStore, codec, decider } = options;
  const maxAttempts = options.maxAttempts ?? 12;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const dedupeWindow = options.dedupeWindow ?? 256;
  const commandIdentity = options.commandIdentity ?? withoutRunStamps;
  const soleWriter = options.soleWriter ?? false;
  const cache = createStreamStateCache<State>(options.cacheSize ?? 10_000);
  const queues = new Map<string, Pending<Command, State>[]>();

  const foldInto = (entry: StreamState<State>, recorded: RecordedEvent): void => {
    // A fresh load reads while commands of this process may append: an event one of them has
    // already applied to the entry is not applied again.
    if (entry.revision !== undefined && recorded.revision <= entry.revision) return;
    const event = codec.decode(recorded);
    entry.state = decider.evolve(entry.state, event);
    entry.revision = recorded.revision;
    entry.position = recorded.position;
    const { commandId, commandDigest } = event.metadata as { commandId?: unknown; commandDigest?: unknown };
    if (typeof commandId === 'string') {
      remember(entry, commandId, {
        revision: recorded.revision,
        position: recorded.position,
        digest: typeof commandDigest === 'string' ? commandDigest : undefined,
      });
    }
  };

  const load = async (streamName: string, loadOptions: { fresh?: boolean } = {}): Promise<StreamState<State>> => {
    const cached = cache.get(streamName);
    if (cached !== undefined && !loadOptions.fresh) return cached;
    const entry = cached ?? {
      state: decider.initialState(),
      revision: undefined,
      position: undefined,
      recentCommands: new Map(),
      forgottenThrough: undefined,
    };
    const fromRevision = entry.revision === undefined ? 'start' : entry.revision + 1n;
    try {
      for await (const recorded of eventStore.readStream(streamName, { fromRevision })) foldInto(entry, recorded);
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    // A stream that does not exist yet is not cached: another process may create it at any time,
    // and a request naming it must not be refused as unknown once it exists.
    if (entry.revision !== undefined) cache.set(streamName, entry);
    return entry;
  };

  const remember = (entry: StreamState<State>, commandId: string, outcome: RecordedCommand) => {
    entry.recentCommands.delete(commandId);
    entry.recentCommands.set(commandId, outcome);
    if (entry.recentCommands.size > dedupeWindow) {
      const [oldest, forgotten] = entry.recentCommands.entries().next().value!;
      entry.recentCommands.delete(oldest);
      if (entry.forgottenThrough === undefined || forgotten.position > entry.forgottenThrough) {
        entry.forgottenThrough = forgotten.position;
      }
    }
  };

  /**
   * The commands of `leaders` that say since when they may have been applied and that the entry
   * may have forgotten, as the log records them (read back from its end down to that position).
   */
  const findForgotten = async (
    streamName: string,
    entry: StreamState<State>,
    leaders: readonly Pending<Command, State>[],
  ): Promise<Map<string, RecordedCommand>> => {
    const found = new Map<string, RecordedCommand>();
    const { forgottenThrough } = entry;
    if (forgottenThrough === undefined) return found;
    const sought = new Map<string, GlobalPosition>();
    for (const { context, retrySince } of leaders) {
      if (retrySince !== undefined && retrySince < forgottenThrough && !entry.recentCommands.has(context.commandId)) {
        sought.set(context.commandId, retrySince);
      }
    }
    if (sought.size === 0) return found;
    const since = [...sought.values()].reduce((lowest, position) => (position < lowest ? position : lowest));
    try {
      for await (const recorded of eventStore.readStream(streamName, { direction: 'backwards' })) {
        if (recorded.position <= since) break;
        const commandId = recorded.metadata?.commandId;
        if (typeof commandId !== 'string' || found.has(commandId)) continue;
        const soughtSince = sought.get(commandId);
        if (soughtSince === undefined || recorded.position <= soughtSince) continue;
        const digest = recorded.metadata?.commandDigest;
        // Read backwards, the first event met is the command's last: where its events ended.
        found.set(commandId, {
          revision: recorded.revision,
          position: recorded.position,
          digest: typeof digest === 'string' ? digest : undefined,
        });
        if (found.size === sought.size) break;
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return found;
  };

  const processBatch = async (
    streamName: string,
    leaders: Pending<Command, State>[],
    copies: Map<string, Pending<Command, State>[]>,
  ): Promise<void> => {
    const resolve = (pending: Pending<Command, State>, result: CommandResult<State>) => {
      pending.resolve(result);
      for (const copy of copies.get(pending.context.commandId)!) copy.resolve({ ...result, appended: 0, replayed: true });
    };
    const reject = (pending: Pending<Command, State>, error: unknown) => {
      pending.reject(error);
      for (const copy of copies.get(pending.context.commandId)!) copy.reject(error);
    };

    const unconstrained = leaders.every((pending) => pending.unconstrained);
    const unchecked = soleWriter && unconstrained;
    // A conflict changes none of an unconstrained batch's decisions: it only shows what other
    // processes appended (one of its commands, perhaps). Such a batch is tried longer, so a system
    // account several processes post to does not leave their movements in transit.
    const attempts = unconstrained ? maxAttempts * UNCONSTRAINED_ATTEMPTS_FACTOR : maxAttempts;
    // A rejection writes nothing, so no revision check catches one decided on a cached state that
    // another process has since changed (a deposit made through another instance). Before any is
    // answered, and remembered under an idempotency key, the batch is decided again on the log's
    // latest state.
    let fresh = false;
    for (let attempt = 1; ; attempt++) {
      const entry = await load(streamName, { fresh });
      const forgotten = await findForgotten(streamName, entry, leaders);
      const base = entry.revision;
      let state = entry.state;
      const toAppend: EventToAppend[] = [];
      // Outcomes are settled only once the state they were decided on is committed: after a
      // conflict every command of the batch is decided again on the fresh state.
      type Decision =
        | { kind: 'replayed'; result: CommandResult<State> }
        | { kind: 'rejected'; error: unknown }
        | { kind: 'writes'; count: number; state: State };
      const decisions: Decision[] = [];
      for (const pending of leaders) {
        const previous = entry.recentCommands.get(pending.context.commandId) ?? forgotten.get(pending.context.commandId);
        if (previous !== undefined) {
          if (previous.digest !== undefined && previous.digest !== pending.digest) {
            decisions.push({ kind: 'rejected', error: new CommandIdReusedError(streamName, pending.context.commandId) });
          } else {
            const { revision, position } = previous;
            decisions.push({ kind: 'replayed', result: { state, revision, position, appended: 0, replayed: true } });
          }
          continue;
        }
        const { expectedRevision } = pending;
        const current = toAppend.length === 0 ? base : (base ?? -1n) + BigInt(toAppend.length);
        if (expectedRevision !== undefined && current !== expectedRevision) {
          decisions.push({ kind: 'rejected', error: new WrongExpectedRevisionError(streamName, expectedRevision, current ?? 'no_stream') });
          continue;
        }
        try {
          const decided = decider.decide(pending.command, state);
          const encoded = decided.map((event, index) =>
            codec.encode({
              ...event,
              id: deterministicEventId(streamName, pending.context.commandId, pending.digest, String(index)),
              version: codec.definitionOf(event.type)?.version,
              metadata: eventMetadataOf(pending.context, pending.digest),
            }),
          );
          state = decided.reduce(decider.evolve, state);
          toAppend.push(...encoded);
          decisions.push({ kind: 'writes', count: encoded.length, state });
        } catch (error) {
          decisions.push({ kind: 'rejected', error });
        }
      }

      if (!fresh && decisions.some((decision) => decision.kind === 'rejected')) {
        fresh = true;
        continue;
      }

      let revision = entry.revision;
      let position = entry.position;
      if (toAppend.length > 0) {
        try {
          const expectedRevision = unchecked ? 'any' : (entry.revision ?? 'no_stream');
          const result = await eventStore.appendToStream(streamName, toAppend, { expectedRevision });
          const firstRevision = result.nextExpectedRevision - BigInt(toAppend.length) + 1n;
          if (entry.revision !== base || firstRevision !== (base ?? -1n) + 1n) {
            // Another process appended in between (possible only without a revision check), or a
            // fresh load folded events into the entry meanwhile: the state decided on is not the
            // stream's, so the next command reloads it.
            cache.delete(streamName);
          } else {
            entry.state = state;
            entry.revision = result.nextExpectedRevision;
            entry.position = result.position;
            cache.set(streamName, entry);
          }
          revision = firstRevision - 1n;
          position = result.position;
        } catch (error) {
          if (error instanceof WrongExpectedRevisionError && attempt < attempts) {
            // The entry still holds the stream up to its revision: the next round folds in only
            // what was appended since, not the whole stream again (a hot account's is long).
            fresh = true;
            await sleep(backoffDelay(attempt, options.backoff, random));
            continue;
          }
          cache.delete(streamName);
          // Nothing was decided on committed state except replays.
          leaders.forEach((pending, index) => {
            const decision = decisions[index]!;
            if (decision.kind === 'replayed') resolve(pending, decision.result);
            else reject(pending, error);
          });
          return;
        }
      }

      leaders.forEach((pending, index) => {
        const decision = decisions[index]!;
        if (decision.kind === 'replayed') return resolve(pending, decision.result);
        if (decision.kind === 'rejected') return reject(pending, decision.error);
        if (decision.count === 0) {
          return resolve(pending, { state: decision.state, revision, position, appended: 0, replayed: false });
        }
        revision = revision! + BigInt(decision.count);
        // Each command gets the batch's position: a reader waiting for it sees the command.
        const outcome = { revision, position: position! };
        remember(entry, pending.context.commandId, { ...outcome, digest: pending.digest });
        resolve(pending, { state: decision.state, ...outcome, appended: decision.count, replayed: false });
      });
      return;
    }
  };

  const drain = async (streamName: string): Promise<void> => {
    for (;;) {
      const pending = queues.get(streamName)!;
      if (pending.length === 0) {
        queues.delete(streamName);
        return;
      }
      const batch = pending.splice(0, pending.length);
      // A command id twice in one batch (a retry racing its original) is decided once; the copies
      // get the first one's outcome. Another command under that id waits for the next batch, to be
      // judged against what the first one wrote.
      const leaders: Pending<Command, State>[] = [];
      const copies = new Map<string, Pending<Command, State>[]>();
      const later: Pending<Command, State>[] = [];
      const leaderOf = new Map<string, Pending<Command, State>>();
      for (const item of batch) {
        const { commandId } = item.context;
        const leader = leaderOf.get(commandId);
        if (leader === undefined) {
          leaderOf.set(commandId, item);
          copies.set(commandId, []);
          leaders.push(item);
        } else if (leader.digest === item.digest) {
          copies.get(commandId)!.push(item);
        } else {
          later.push(item);
        }
      }
      pending.unshift(...later);
      try {
        await processBatch(streamName, leaders, copies);
      } catch (error) {
        // Loading the stream failed: every command of the batch fails with it.
        for (const item of leaders) item.reject(error);
        for (const same of copies.values()) for (const item of same) item.reject(error);
      }
    }
  };

  return {
    handle(streamName, command, context, handleOptions = {}) {
      return new Promise((resolve, reject) => {
        const pending = {
          command,
          context,
          digest: commandDigestOf(commandIdentity(command)),
          unconstrained: handleOptions.unconstrained ?? false,
          expectedRevision: handleOptions.expectedRevision,
          retrySince: handleOptions.retrySince,
          resolve,
          reject,
        };
        const queue = queues.get(streamName);
        if (queue !== undefined) {
          queue.push(pending);
          return;
        }
        queues.set(streamName, [pending]);
        // Started on the next turn, so the commands that arrive in this one share a batch.
        setImmediate(() => void drain(streamName));
      });
    },
    load,
  };
};
