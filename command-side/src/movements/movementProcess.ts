import {
  accountStream,
  deterministicEventId,
  snowflakeTimestamp,
  FolioError,
  ledgerCatalog,
  StoreUnavailableError,
  StreamNotFoundError,
  WrongExpectedRevisionError,
  type EventStore,
  type GlobalPosition,
  type JournalLeg,
  type LedgerEvent,
  type Movement,
  type MovementOutcomeChoice,
  type RecordedEvent,
  hasSoleWriter,
} from '@folio/shared';
import type { AccountState } from '../accounts/accountState.js';
import { accountDecider, type AccountCommand } from '../accounts/accountDecider.js';
import type { AccountCommandHandler } from '../accounts/accountCommandHandler.js';
import { CommandIdReusedError } from '../commandHandling/commandErrors.js';
import type { CommandContext } from '../commandHandling/decider.js';
import { ensureClaimLeaseHeld } from '../idempotency/claimLease.js';
import { planOf, type MovementLeg, type MovementPlan } from './movement.js';
import type { SystemAccounts } from './systemAccountOpener.js';

export type MovementFailure = {
  type: string;
  detail: string;
};

export interface MovementOutcome {
  status: 'completed' | 'failed';
  /** The movement as its first leg recorded it: a retried request answers with its request time. */
  movement: Movement;
  failure?: MovementFailure;
  /** When the process recorded the outcome (business time). */
  endedAt: string;
  /** Global position of the outcome event: read models that reached it show the whole movement. */
  position: GlobalPosition;
}

export interface MovementProcessDependencies {
  eventStore: EventStore;
  accounts: AccountCommandHandler;
  systemAccounts: SystemAccounts;
  clock: () => Date;
  /**
   * Ids of the events a run appends as its own (`MovementOutcomeChosen`): unique to the run, so a
   * choice another run appended is never taken for this one's. `randomUUID` where the write API is
   * composed.
   */
  newEventId: () => string;
}

export interface RunContext {
  correlationId: string;
  actor: string;
}

/** What a run of a movement knows of earlier runs of its request, and until when it may start one. */
export interface MovementAttempt {
  /** An earlier run may have done part of it: the log is consulted before anything is posted. */
  retry: boolean;
  /**
   * The lease of the idempotency claim the request runs under (`RunAttempt.claimValidUntil`): a
   * movement nothing was posted for yet starts only before it. None: the request holds no claim.
   */
  claimValidUntil?: Date;
}

export interface ResumeFrom {
  /** Position of the journal's first leg: its later legs, if any, come after it. */
  firstLegPosition: GlobalPosition;
}

/**
 * Errors a refusing account raises; anything else (store down, bug) leaves the journal open. A leg
 * whose command id holds another posting is no refusal: that posting is in the books.
 */
export const isRefusal = (error: unknown): error is FolioError =>
  error instanceof FolioError &&
  error.status >= 400 &&
  error.status < 500 &&
  !(error instanceof WrongExpectedRevisionError) &&
  !(error instanceof StoreUnavailableError) &&
  !(error instanceof CommandIdReusedError);

/**
 * A movement whose first leg is posted but which could not be finished now (a reversal its account
 * refused, a conflict that outlasted its retries). Its money is in transit and recovery finishes
 * it; a 5xx, so the idempotency layer does not remember it as the request's answer and a retry
 * with the same key reports the outcome.
 */
export class MovementIncompleteError extends FolioError {
  readonly type = 'movement-incomplete';
  readonly status = 503;
  override readonly retryAfterSeconds = 1;

  constructor(
    readonly kind: string,
    readonly movementId: string,
    cause: FolioError,
  ) {
    super(
      `${kind} ${movementId} is in transit: its first leg is posted, but it could not be finished now (${cause.message}); ` +
        'it will be finished by recovery, and a retry with the same Idempotency-Key answers with its outcome',
      { cause },
    );
  }

  override problemExtensions() {
    return { kind: this.kind, id: this.movementId };
  }
}

/**
 * Once the first leg is posted, a 4xx is no longer an answer to the request: it would be
 * remembered as a rejection of a movement that moved money. A 5xx or an untyped error (a bug,
 * logged as such) already tells the caller to retry.
 */
const incompleteUnlessServerError = (plan: MovementPlan, error: unknown): unknown =>
  error instanceof FolioError && error.status < 500 ? new MovementIncompleteError(plan.kind, plan.id, error) : error;

/** The store stamps commit times with its own clock, which may run behind the one minting ids. */
const CLOCK_SKEW_MARGIN_MS = 5 * 60_000;

const REASON_SEPARATOR = ': ';
const encodeReason = (failure: MovementFailure): string => `${failure.type}${REASON_SEPARATOR}${failure.detail}`;
const decodeReason = (reason: string | undefined): MovementFailure => {
  const at = reason?.indexOf(REASON_SEPARATOR) ?? -1;
  return at > 0
    ? { type: reason!.slice(0, at), detail: reason!.slice(at + REASON_SEPARATOR.length) }
    : { type: 'refused', detail: reason ?? 'the destination refused the movement' };
};

export const legCommandId = (plan: MovementPlan, leg: JournalLeg): string => `${plan.kind}-${plan.id}:${leg}`;

/** How a run chose to end a movement (`MovementOutcomeChosen`), and the stream revision of that choice. */
interface ChosenOutcome {
  outcome: MovementOutcomeChoice;
  failure: MovementFailure | undefined;
  revision: bigint;
}

/** What a movement's stream says: the outcome that stands for it (the latest chosen), if any, and how it ended, if it did. */
interface MovementRecord {
  chosen?: ChosenOutcome;
  ended?: { movement: Movement; outcome: MovementOutcome };
}

/**
 * Posts a journal leg by leg: first leg (may be refused: then nothing was written and the
 * refusal is thrown), second leg, and the outcome on the movement's own stream. If the second
 * account refuses, the first leg is reversed by an explicit posting and the movement fails.
 *
 * Every step has a deterministic command or event id, so running a movement again (a retried
 * request, recovery after a crash) never posts a leg twice. When resuming, the process first
 * looks in the log for the legs already posted after the first one, because a reversal that
 * happened must never be followed by a credit that would now succeed.
 *
 * With several writing processes, two runs of one movement may overlap (a run slower than the
 * stuck threshold and the recovery of another process), and the second account may refuse one of
 * them and accept the other (unfrozen in between): one would credit it while the other reverses
 * the first leg. There, a run first chooses the outcome on the movement's own stream
 * (`MovementOutcomeChosen`, appended only where the stream is still empty), and posts only the
 * leg of the outcome that stands, its own or another run's. A sole writer runs each movement once
 * at a time (see `singleFlight`) and posts as it decides.
 *
 * A choice to complete whose second account is closed before that leg is posted can never be
 * followed (a closed account takes no posting again): the run that finds the account closed on its
 * stream, without the leg, replaces the choice by one to reverse, appended at the revision of the
 * choice it replaces, so that runs following either never act on both; a run that loses that race
 * follows the choice that stands.
 */
export const createMovementProcess = (deps: MovementProcessDependencies) => {
  const { eventStore, accounts, systemAccounts, clock, newEventId } = deps;
  const soleWriter = hasSoleWriter(eventStore);

  const contextFor = (plan: MovementPlan, leg: JournalLeg, run: RunContext): CommandContext => ({
    commandId: legCommandId(plan, leg),
    correlationId: run.correlationId,
    causationId: `${plan.kind}-${plan.id}`,
    actor: run.actor,
    now: clock(),
  });

  const commandFor = (plan: MovementPlan, leg: JournalLeg, side: MovementLeg, reason?: string): AccountCommand => {
    const counterparty = side === plan.first ? plan.second : plan.first;
    const debit = leg === 'reversal' ? side.side === 'credit' : side.side === 'debit';
    return {
      type: debit ? 'PostDebit' : 'PostCredit',
      accountId: side.accountId,
      journal: { id: plan.id, kind: plan.kind, leg, counterpartyAccountId: counterparty.accountId },
      amount: plan.movement.amount,
      currency: plan.movement.currency,
      ...(leg === 'first' ? { movement: plan.movement } : {}),
      ...(leg === 'first' && side.holdId !== undefined ? { holdId: side.holdId } : {}),
      ...(reason === undefined ? {} : { reason }),
    };
  };

  /**
   * Posts a leg. A later leg comes after the first (at `firstLegPosition`), and another run may have
   * posted it already, long enough ago for the account to have taken more commands since than the
   * handler remembers: the handler then looks for it in the log from there.
   */
  const post = async (
    plan: MovementPlan,
    leg: JournalLeg,
    side: MovementLeg,
    run: RunContext,
    options: { reason?: string; firstLegPosition?: GlobalPosition } = {},
  ) => {
    if (side.system !== undefined) await systemAccounts.ensureOpen(side.system, run);
    return accounts.handle(accountStream(side.accountId), commandFor(plan, leg, side, options.reason), contextFor(plan, leg, run), {
      unconstrained: side.system !== undefined,
      ...(options.firstLegPosition === undefined ? {} : { retrySince: options.firstLegPosition }),
    });
  };

  /**
   * Why the second account would refuse the second leg now, decided on its latest state without
   * writing anything; undefined when it would accept it.
   */
  const refusalOfSecondLeg = async (plan: MovementPlan, run: RunContext): Promise<MovementFailure | undefined> => {
    if (plan.second.system !== undefined) await systemAccounts.ensureOpen(plan.second.system, run);
    const { state } = await accounts.load(accountStream(plan.second.accountId), { fresh: true });
    return refusalOfSecondLegOn(plan, state);
  };

  /** Why the second account, in `state`, would refuse the second leg; undefined when it would accept it. */
  const refusalOfSecondLegOn = (plan: MovementPlan, state: AccountState): MovementFailure | undefined => {
    try {
      accountDecider.decide(commandFor(plan, 'second', plan.second), state);
      return undefined;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      return { type: error.type, detail: error.message };
    }
  };

  /**
   * The event a leg posted, if it did (found by its command id in the metadata), searching back
   * from the end of the account's stream down to `since` (a position) or `notBefore` (a time).
   */
  const findLeg = async (
    plan: MovementPlan,
    leg: JournalLeg,
    side: MovementLeg,
    since: GlobalPosition | undefined,
    notBefore?: Date,
  ) => {
    const commandId = legCommandId(plan, leg);
    try {
      for await (const recorded of eventStore.readStream(accountStream(side.accountId), { direction: 'backwards' })) {
        if (since !== undefined && recorded.position <= since) return undefined;
        if (notBefore !== undefined && recorded.created < notBefore) return undefined;
        if (recorded.metadata?.commandId === commandId) return recorded;
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return undefined;
  };

  /** How a movement ended, from its outcome event; undefined for any other event. */
  const endedBy = (event: LedgerEvent, position: GlobalPosition): MovementRecord['ended'] => {
    switch (event.type) {
      case 'TransferFailed': {
        const { transferId: _id, failedAt, reason, ...movement } = event.data;
        return { movement, outcome: { status: 'failed', movement, failure: reason, endedAt: failedAt, position } };
      }
      case 'TransferCompleted': {
        const { transferId: _id, completedAt, ...movement } = event.data;
        return { movement, outcome: { status: 'completed', movement, endedAt: completedAt, position } };
      }
      case 'DepositCompleted': {
        const { depositId: _id, completedAt, ...movement } = event.data;
        return { movement, outcome: { status: 'completed', movement, endedAt: completedAt, position } };
      }
      case 'DepositFailed': {
        const { depositId: _id, failedAt, reason, ...movement } = event.data;
        return { movement, outcome: { status: 'failed', movement, failure: reason, endedAt: failedAt, position } };
      }
      case 'JournalCompleted': {
        const { kind: _kind, journalId: _id, completedAt, ...movement } = event.data;
        return { movement, outcome: { status: 'completed', movement, endedAt: completedAt, position } };
      }
      case 'JournalFailed': {
        const { kind: _kind, journalId: _id, failedAt, reason, ...movement } = event.data;
        return { movement, outcome: { status: 'failed', movement, failure: reason, endedAt: failedAt, position } };
      }
      default:
        return undefined;
    }
  };

  /**
   * What a movement's stream holds: the outcome chosen (first, where one was, then its replacement
   * where one was appended: the latest stands) and how the movement ended. At most three events.
   */
  const readMovement = async (streamName: string): Promise<MovementRecord> => {
    const record: MovementRecord = {};
    try {
      for await (const recorded of eventStore.readStream(streamName)) {
        const event = ledgerCatalog.decode(recorded) as LedgerEvent;
        if (event.type === 'MovementOutcomeChosen') {
          record.chosen = { outcome: event.data.outcome, failure: event.data.reason, revision: recorded.revision };
        } else {
          const ended = endedBy(event, recorded.position);
          if (ended !== undefined) record.ended = ended;
        }
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return record;
  };

  /** How a movement ended, as recorded on its stream; undefined while it is open or unknown. */
  const readRecord = async (streamName: string): Promise<{ movement: Movement; outcome: MovementOutcome } | undefined> =>
    (await readMovement(streamName)).ended;

  const readOutcome = async (plan: MovementPlan): Promise<MovementOutcome | undefined> =>
    (await readRecord(plan.streamName))?.outcome;

  /** Appends how the movement ended, after the outcome chosen for it if any (at `chosen.revision`). */
  const recordOutcome = async (
    plan: MovementPlan,
    failure: MovementFailure | undefined,
    run: RunContext,
    chosen?: ChosenOutcome,
  ): Promise<MovementOutcome> => {
    const endedAt = clock().toISOString();
    const { movement } = plan;
    const ended = failure === undefined ? { completedAt: endedAt } : { failedAt: endedAt, reason: failure };
    const event =
      plan.kind === 'transfer'
        ? failure === undefined
          ? { type: 'TransferCompleted' as const, data: { ...movement, transferId: plan.id, ...ended } }
          : { type: 'TransferFailed' as const, data: { ...movement, transferId: plan.id, ...ended } }
        : plan.kind === 'deposit'
          ? failure === undefined
            ? { type: 'DepositCompleted' as const, data: { ...movement, depositId: plan.id, ...ended } }
            : { type: 'DepositFailed' as const, data: { ...movement, depositId: plan.id, ...ended } }
          : failure === undefined
            ? { type: 'JournalCompleted' as const, data: { ...movement, kind: plan.kind, journalId: plan.id, ...ended } }
            : { type: 'JournalFailed' as const, data: { ...movement, kind: plan.kind, journalId: plan.id, ...ended } };
    // Built from the movement validated at the boundary: the catalog's trusted path.
    const encoded = ledgerCatalog.encodeTrusted({
      ...event,
      id: deterministicEventId(plan.streamName, 'outcome'),
      version: 1,
      metadata: {
        $correlationId: run.correlationId,
        $causationId: `${plan.kind}-${plan.id}`,
        actor: run.actor,
        occurredAt: endedAt,
        commandId: `${plan.kind}-${plan.id}:outcome`,
      },
    } as LedgerEvent);
    try {
      const result = await eventStore.appendToStream(plan.streamName, [encoded], {
        expectedRevision: chosen === undefined ? 'no_stream' : chosen.revision,
      });
      return {
        status: failure === undefined ? 'completed' : 'failed',
        movement,
        ...(failure ? { failure } : {}),
        endedAt,
        position: result.position,
      };
    } catch (error) {
      // Another run of the same movement recorded it first: its outcome stands.
      if (error instanceof WrongExpectedRevisionError) {
        const recorded = await readOutcome(plan);
        if (recorded !== undefined) return recorded;
      }
      throw error;
    }
  };

  /**
   * Appends a choice of this run's at `expectedRevision` (no stream for a first choice, the
   * revision of the choice it replaces for a replacement), unless another run got there first:
   * the outcome that stands then, with its revision on the movement's stream.
   */
  const appendChoice = async (
    plan: MovementPlan,
    run: RunContext,
    outcome: MovementOutcomeChoice,
    failure: MovementFailure | undefined,
    replacing?: ChosenOutcome,
  ): Promise<ChosenOutcome | MovementOutcome> => {
    const chosenAt = clock().toISOString();
    const encoded = ledgerCatalog.encodeTrusted({
      type: 'MovementOutcomeChosen',
      // An id of this run's own: a choice appended by another run, even the same one, is never
      // taken for this one (the append is refused and the other run's choice is followed).
      id: newEventId(),
      version: 1,
      data: {
        kind: plan.kind,
        journalId: plan.id,
        outcome,
        ...(failure === undefined ? {} : { reason: failure }),
        chosenAt,
        ...(replacing === undefined ? {} : { replaces: replacing.outcome }),
      },
      metadata: {
        $correlationId: run.correlationId,
        $causationId: `${plan.kind}-${plan.id}`,
        actor: run.actor,
        occurredAt: chosenAt,
        commandId: `${plan.kind}-${plan.id}:${replacing === undefined ? 'outcome-chosen' : 'outcome-replaced'}`,
      },
    } as LedgerEvent);
    try {
      const result = await eventStore.appendToStream(plan.streamName, [encoded], {
        expectedRevision: replacing === undefined ? 'no_stream' : replacing.revision,
      });
      return { outcome, failure, revision: result.nextExpectedRevision };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      // Another run chose first, or replaced the choice first (or, before outcomes were chosen,
      // ended the movement): that stands.
      const record = await readMovement(plan.streamName);
      const standing = record.ended?.outcome ?? record.chosen;
      if (standing === undefined) throw error;
      return standing;
    }
  };

  /**
   * Chooses how the movement ends, by whether the second account would take its leg now, unless
   * another run chose first: the outcome that stands, with its revision on the movement's stream.
   */
  const chooseOutcome = async (plan: MovementPlan, run: RunContext): Promise<ChosenOutcome | MovementOutcome> => {
    const failure = await refusalOfSecondLeg(plan, run);
    return appendChoice(plan, run, failure === undefined ? 'complete' : 'reverse', failure);
  };

  /**
   * A choice to complete that can never be followed: its second account is closed, as its stream
   * reads, and the second leg is not among its postings. A closed account never takes a posting
   * again (there is no reopening), so no run can post that leg after this look: the choice is
   * replaced by one to reverse, at its revision, so that no two runs act on different choices.
   * Undefined where the account is not closed or the leg is posted: the choice stands, and the
   * movement stays in transit until the leg can be posted.
   */
  const replaceUnfollowable = async (
    plan: MovementPlan,
    chosen: ChosenOutcome,
    run: RunContext,
    firstLegPosition: GlobalPosition,
  ): Promise<ChosenOutcome | MovementOutcome | undefined> => {
    const { state } = await accounts.load(accountStream(plan.second.accountId), { fresh: true });
    if (!state.exists || state.status !== 'closed') return undefined;
    // Read after the state that shows it closed: any posting of the leg came before the close.
    if ((await findLeg(plan, 'second', plan.second, firstLegPosition)) !== undefined) return undefined;
    const failure = refusalOfSecondLegOn(plan, state);
    if (failure === undefined) return undefined;
    return appendChoice(plan, run, 'reverse', failure, chosen);
  };

  /**
   * Posts the leg of the outcome chosen (again, if another run posted it already: its command id,
   * looked for in the log back to the first leg, makes that a no-op) and records how the movement
   * ended. A refusal of that leg leaves the movement in transit, for recovery to finish once the
   * account takes it: the other leg may never be posted instead, since another run may be
   * following the same choice. Except where the second account is closed without the second leg:
   * the choice to complete is then replaced by one to reverse (see `replaceUnfollowable`), and the
   * choice that stands after that is followed.
   */
  const follow = async (
    plan: MovementPlan,
    chosen: ChosenOutcome,
    run: RunContext,
    firstLegPosition: GlobalPosition,
  ): Promise<MovementOutcome> => {
    if (chosen.outcome === 'complete') {
      try {
        await post(plan, 'second', plan.second, run, { firstLegPosition });
      } catch (error) {
        if (!isRefusal(error)) throw error;
        // Why the leg was refused is read from the account's stream, not from the error.
        const standing = await replaceUnfollowable(plan, chosen, run, firstLegPosition);
        if (standing === undefined) throw error;
        if ('status' in standing) return standing;
        // No replacement chooses to complete: only a choice to reverse can stand in its place.
        if (standing.outcome === 'complete') throw error;
        return follow(plan, standing, run, firstLegPosition);
      }
      return recordOutcome(plan, undefined, run, chosen);
    }
    const failure = chosen.failure ?? decodeReason(undefined);
    await post(plan, 'reversal', plan.first, run, { reason: encodeReason(failure), firstLegPosition });
    return recordOutcome(plan, failure, run, chosen);
  };

  /**
   * A sole writer's later legs are new: its runs of a movement never overlap, and a resumed one has
   * looked for them in the log first. Another writer may be following the same outcome.
   */
  const finishAfterFirstLeg = async (
    plan: MovementPlan,
    run: RunContext,
    firstLegPosition: GlobalPosition,
  ): Promise<MovementOutcome> => {
    try {
      if (!soleWriter) {
        const standing = await chooseOutcome(plan, run);
        return 'status' in standing ? standing : await follow(plan, standing, run, firstLegPosition);
      }
      try {
        await post(plan, 'second', plan.second, run);
      } catch (error) {
        if (!isRefusal(error)) throw error;
        const failure = { type: error.type, detail: error.message };
        await post(plan, 'reversal', plan.first, run, { reason: encodeReason(failure) });
        return await recordOutcome(plan, failure, run);
      }
      return await recordOutcome(plan, undefined, run);
    } catch (error) {
      throw incompleteUnlessServerError(plan, error);
    }
  };

  const resume = async (plan: MovementPlan, run: RunContext, from: ResumeFrom): Promise<MovementOutcome> => {
    try {
      const record = await readMovement(plan.streamName);
      if (record.ended !== undefined) return record.ended.outcome;
      if (record.chosen !== undefined) return await follow(plan, record.chosen, run, from.firstLegPosition);
      // Legs posted without an outcome chosen: by a sole writer, or before outcomes were chosen.
      const reversal = await findLeg(plan, 'reversal', plan.first, from.firstLegPosition);
      if (reversal !== undefined) {
        return await recordOutcome(plan, decodeReason((reversal.data as { reason?: string }).reason), run);
      }
      if ((await findLeg(plan, 'second', plan.second, from.firstLegPosition)) !== undefined) {
        return await recordOutcome(plan, undefined, run);
      }
      return await finishAfterFirstLeg(plan, run, from.firstLegPosition);
    } catch (error) {
      throw incompleteUnlessServerError(plan, error);
    }
  };

  /**
   * The plan as the first leg an earlier run posted recorded it. A retried request builds its
   * movement anew (a new request time); the movement is the one of its first leg, in the log and
   * in every answer.
   */
  const recordedPlan = (plan: MovementPlan, firstLeg: RecordedEvent): MovementPlan => {
    const event = ledgerCatalog.decode(firstLeg) as LedgerEvent;
    const movement = event.type === 'AccountDebited' || event.type === 'AccountCredited' ? event.data.movement : undefined;
    return movement === undefined ? plan : planOf(plan.kind, plan.id, movement);
  };

  /**
   * Movements running in this process. A second run of the same movement waits for the first
   * instead of racing it (a reversal racing a credit could otherwise post both), and recovery
   * leaves them alone.
   */
  const running = new Map<string, Promise<MovementOutcome>>();
  const singleFlight = (plan: MovementPlan, work: () => Promise<MovementOutcome>): Promise<MovementOutcome> => {
    const key = `${plan.kind}-${plan.id}`;
    const current = running.get(key);
    if (current !== undefined) return current;
    const started = work().finally(() => running.delete(key));
    running.set(key, started);
    return started;
  };

  /**
   * The first leg of a movement that may have run before, if it was posted: it can only come
   * after the movement's id was minted, which bounds the search.
   */
  const findFirstLeg = (plan: MovementPlan) =>
    findLeg(plan, 'first', plan.first, undefined, new Date(snowflakeTimestamp(plan.id) - CLOCK_SKEW_MARGIN_MS));

  return {
    /**
     * Runs a movement. A refused first leg is thrown: nothing was written. With `retry`, an
     * earlier run may have done part of it, so the log is consulted before anything is posted.
     * Past `claimValidUntil`, one not started yet is refused with `IdempotencyClaimExpiredError`.
     */
    run: (plan: MovementPlan, run: RunContext, attempt: MovementAttempt = { retry: false }) =>
      singleFlight(plan, async () => {
        if (attempt.retry) {
          const recorded = await readOutcome(plan);
          if (recorded !== undefined) return recorded;
          const first = await findFirstLeg(plan);
          if (first !== undefined) return resume(recordedPlan(plan, first), run, { firstLegPosition: first.position });
        }
        // Nothing posted for it yet: a new movement, started only within the lease of the request's claim.
        ensureClaimLeaseHeld(attempt.claimValidUntil, clock);
        const first = await post(plan, 'first', plan.first, run);
        if (first.replayed) {
          const recorded = await readOutcome(plan);
          if (recorded !== undefined) return recorded;
          const firstLeg = await findFirstLeg(plan);
          return firstLeg === undefined
            ? resume(plan, run, { firstLegPosition: first.position! })
            : resume(recordedPlan(plan, firstLeg), run, { firstLegPosition: firstLeg.position });
        }
        return finishAfterFirstLeg(plan, run, first.position!);
      }),

    /** Finishes a movement whose first leg is in the log, whatever happened after it. */
    resume: (plan: MovementPlan, run: RunContext, from: ResumeFrom): Promise<MovementOutcome> =>
      singleFlight(plan, () => resume(plan, run, from)),

    isRunning: (kind: string, id: string): boolean => running.has(`${kind}-${id}`),

    /** A movement's request and outcome once it has ended. */
    read: readRecord,
  };
};

export type MovementProcess = ReturnType<typeof createMovementProcess>;
