/**
 * Idempotency keys for commands, recorded in the event store.
 *
 * Why the event store: it is the one durable, crash-safe store Folio always has (embedded SQLite
 * or EventStoreDB), its group commit makes the extra appends cheap, and its optimistic concurrency
 * gives exactly one winner across processes without a lock service.
 *
 * Layout: one stream per (caller, key), `idempotency-<sha256(callerId + "\n" + key)>`, so keys
 * are scoped per caller and any key text makes a valid stream name. A record is a cycle of events:
 * `IdempotentRequestStarted` (claims the key for a fingerprint and fixes the `resourceId` the
 * operation will create), then `IdempotentRequestCompleted` (the response to replay) or
 * `IdempotentRequestAbandoned` (an unexpected failure: nothing to replay).
 *
 * How a request goes:
 * 1. In this process, concurrent requests with one key share one execution: followers await the
 *    leader's outcome (up to `inFlightWaitMs`, then 409) and answer as replays. This keeps a burst
 *    of client retries from turning into store conflicts.
 * 2. The leader reads the stream. With no record, or an expired one, it appends `Started` at the
 *    exact revision it read (`no_stream` for a new key). Two processes racing for a key both
 *    append at that revision and only one succeeds; the loser re-reads and sees the winner.
 * 3. With a live record: another fingerprint is refused (422); `Completed` is replayed; after
 *    `Abandoned` the request runs again; a `Started` without an outcome is in progress (409 with
 *    Retry-After) until it is older than `staleAfterMs`, when its process is presumed dead and
 *    the request takes it over by appending another `Started`; when this process is the store's
 *    sole writer, a claim of another process is from a run that crashed and is taken over at once. Retries and takeovers keep the
 *    `resourceId`, so they re-run the same operation, which the ledger makes idempotent.
 * 4. After the run the outcome is appended right after the claim. A `FolioError` with a 4xx status
 *    is a business rejection (insufficient funds, frozen account): it is recorded as a completed
 *    response, its problem document as the body, so a retry gets the same rejection. Anything
 *    else is recorded as `Abandoned` and rethrown. A transient refusal (a concurrency conflict, a
 *    4xx with a retry hint) is not a rejection: remembering it would refuse the key for the whole
 *    retention.
 *    If the claim was taken over meanwhile, the first completion recorded wins and later ones
 *    answer with it; but a run whose lease (below) has run out records nothing after a takeover
 *    that has not answered yet, which may decide otherwise (funds arrived meanwhile), and answers
 *    409 with Retry-After, as to a request whose key is in progress: the takeover's answer will be
 *    the key's.
 *
 * Leases: a run may start new work (a movement nothing was posted for yet, a payout's hold, a
 * payment's capture, settlement or refund reservation, a discrepancy's resolution claim) only
 * while its claim surely is not stale: before `RunAttempt.claimValidUntil`, its `startedAt` +
 * `staleAfterMs` / 2. Past it the work is refused with `IdempotencyClaimExpiredError` (503, not
 * remembered; see `ensureClaimLeaseHeld`). The other half of the claim's life is the margin in which
 * the append that starts the work, checked right before it, lands or fails before another process
 * may take the claim over. It must exceed the store's write timeout (EventStoreDB gives up after
 * `FOLIO_EVENTSTORE_WRITE_TIMEOUT_SECONDS`, 10 s by default, against a margin of 30 s by default)
 * plus the drift between the clocks of the write processes, assumed well under a second (NTP). A
 * run paused longer than the margin between its check and that append is not covered: a lease
 * bounds pauses, it cannot rule them out. Finishing work already started is always allowed: it
 * contradicts no answer. A sole writer's runs get no lease: it takes over only claims of runs that
 * crashed, never one still running.
 *
 * A run may fail as a whole yet answer some parts for good (`PartlyAnsweredError`: a batch's
 * rejected items in its 503). Those parts go into the `Abandoned` event, before the error reaches
 * the client, and from there into every later claim of the cycle (so a takeover after a crash has
 * them too); each later run gets them as `attempt.finalParts` and answers those parts with them.
 *
 * Event ids are `deterministicEventId(stream, revision, attemptId)`: a retried append of one
 * execution is recognised by the store, while two executions racing for the same revision get
 * different ids, so the store cannot mistake the loser's append for a retry of the winner's.
 *
 * A response larger than one append of the store may hold (`maxAppendBytes`: EventStoreDB refuses
 * an append, all its events together, above its `MaxAppendSize`) is recorded in parts: the JSON
 * text of its body in slices, one `IdempotentResponsePart` per append, then
 * `IdempotentRequestCompletedInParts` naming the attempt and the number of parts. Parts rather
 * than a compact form rebuilt from the ledger: it works for any response the routes give, whatever
 * they echo, and a replay needs nothing but this stream to be byte for byte the first answer. The
 * completion comes last, so a crash between parts leaves the claim open (taken over like any
 * other); parts carry the id of the attempt that wrote them, so parts of an attempt that lost a
 * race or crashed are never mistaken for another's, and the parts already written stay valid when
 * a takeover lands among them. Each part's event id is derived like every other append's, so a
 * retried part is recognised by the store.
 *
 * A key becomes reusable once `expiresAt` (first claim + retention) has passed; a new cycle then
 * starts on the same stream. A cycle never answered is the exception for its own request: retried
 * later, it is taken over as within the retention (its money may be moving under its resource id),
 * and the claim that answers it keeps the answer a retention from then. Validation failures must be
 * raised before `execute` so they never claim the key.
 */
import { randomUUID, createHash } from 'node:crypto';
import {
  FolioError,
  StreamNotFoundError,
  WrongExpectedRevisionError,
  createEnvelope,
  deterministicEventId,
  toTrustedEventToAppend,
  type EventDataOf,
  type EventStore,
  type EventToAppend,
  type JsonValue,
} from '@folio/shared';
import { appendedBytes, sliceForEncoding } from './appendSize.js';
import { IdempotencyKeyReusedError, IdempotentRequestInProgressError, PartlyAnsweredError } from './errors.js';
import {
  IDEMPOTENCY_STREAM_PREFIX,
  idempotencyCatalog,
  idempotentRequestAbandoned,
  idempotentRequestCompleted,
  idempotentRequestCompletedInParts,
  idempotentRequestStarted,
  idempotentResponsePart,
} from './idempotencyEvents.js';

export const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_STALE_AFTER_MS = 60 * 1000;
export const DEFAULT_IN_FLIGHT_WAIT_MS = 5 * 1000;

/** Requests in flight usually finish within a second; a longer hint would only slow clients. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Room left under `maxAppendBytes` for what the server may count beyond the data, metadata and type
 * `appendedBytes` measures (the content type, the event id), with plenty to spare.
 */
const APPEND_HEADROOM_BYTES = 1024;

/** Each lost race means another writer made progress, so a few rounds settle any real contention. */
const MAX_WRITE_ROUNDS = 5;

export interface IdempotentResponse {
  status: number;
  body: JsonValue;
  headers?: Record<string, string>;
}

export interface IdempotentOutcome {
  status: number;
  body: JsonValue;
  headers: Record<string, string>;
  /** The response was produced by another execution with the same key. */
  replayed: boolean;
}

/** Answers to parts of a request, keyed by part, that no later run may decide again. */
export type FinalParts = Readonly<Record<string, JsonValue>>;

export interface RunAttempt {
  /**
   * An earlier execution of this key may have done part of the work (it was abandoned, or taken
   * over from a process presumed dead): the work must then look for what was already done instead
   * of assuming nothing was.
   */
  retry: boolean;
  /** The parts earlier executions answered for good (see `PartlyAnsweredError`): answer them so. */
  finalParts: FinalParts;
  /**
   * The lease of this run's claim: no new work (no movement nothing was posted for yet) may start
   * from this instant on, since the claim may soon be taken over (see "Leases" above). None where
   * the request holds no claim (it came without a key) or the store has a sole writer.
   */
  claimValidUntil?: Date;
}

export interface ExecuteRequest {
  callerId: string;
  key: string;
  fingerprint: string;
  /** Mints the id of what the operation creates; called only when a new cycle starts. */
  newResourceId: () => string;
  /** Does the work. */
  run: (resourceId: string, attempt: RunAttempt) => Promise<IdempotentResponse>;
}

export interface IdempotencyStore {
  execute(request: ExecuteRequest): Promise<IdempotentOutcome>;
}

export interface IdempotencyStoreOptions {
  eventStore: EventStore;
  clock: () => Date;
  retentionMs?: number;
  /** A claim older than this without an outcome is presumed dead and may be taken over. */
  staleAfterMs?: number;
  /**
   * This process is the only one writing to the store (the embedded default): a claim made by
   * another process, necessarily an earlier run that crashed, is taken over at once.
   */
  soleWriter?: boolean;
  /** Identifies this process in its claims; a new one on every start. */
  processId?: string;
  /** How long a concurrent request in this process waits for the one executing. */
  inFlightWaitMs?: number;
  /** Turns a business rejection into the response to record; the HTTP layer provides it. */
  toProblem?: (error: FolioError) => IdempotentResponse;
  /** Distinguishes concurrent executions in event ids. */
  newAttemptId?: () => string;
  /**
   * The largest append the event store accepts, in bytes (EventStoreDB's `MaxAppendSize`);
   * responses that would not fit in one event are recorded in parts. None on the embedded store.
   */
  maxAppendBytes?: number;
}

export const idempotencyStreamName = (callerId: string, key: string): string =>
  IDEMPOTENCY_STREAM_PREFIX + createHash('sha256').update(`${callerId}\n${key}`).digest('hex');

export const defaultToProblem = (error: FolioError): IdempotentResponse => ({
  status: error.status,
  headers: { 'content-type': 'application/problem+json' },
  // Extensions may hold values JSON changes (a Date); record what the wire would carry.
  body: JSON.parse(
    JSON.stringify({
      type: `urn:folio:problem:${error.type}`,
      title: error.type,
      status: error.status,
      detail: error.message,
      ...error.problemExtensions(),
    }),
  ) as JsonValue,
});

/**
 * A refusal to remember under the key: a 4xx `FolioError` that is final. One that says when to retry
 * (`retryAfterSeconds`: money still in transit, a request in progress, a rate limit) describes the
 * moment, not the request, and so does a concurrency conflict: remembering them would keep
 * refusing the key for the whole retention after the moment has passed. Anything else may go
 * another way when retried.
 */
export const isBusinessRejection = (error: unknown): error is FolioError =>
  error instanceof FolioError &&
  error.status >= 400 &&
  error.status < 500 &&
  error.retryAfterSeconds === undefined &&
  !(error instanceof WrongExpectedRevisionError);

type StartedData = EventDataOf<typeof idempotentRequestStarted>;

type IdempotencyEventDefinition =
  | typeof idempotentRequestStarted
  | typeof idempotentRequestCompleted
  | typeof idempotentRequestAbandoned
  | typeof idempotentResponsePart
  | typeof idempotentRequestCompletedInParts;

/** A completion in parts, read before its parts are. */
interface CompletionInParts {
  status: number;
  headers: Record<string, string> | undefined;
  attemptId: string;
  texts: (string | undefined)[];
  missing: number;
}

type RecordState =
  | { kind: 'in-progress' }
  | { kind: 'abandoned'; finalParts: FinalParts | undefined }
  | { kind: 'completed'; response: IdempotentResponse };

interface KeyRecord {
  /** The latest claim. */
  started: StartedData;
  /** The stream's last revision: where the next append must go. */
  revision: bigint;
  state: RecordState;
}

/** What the read record tells the leader to do. */
type Decision =
  | { kind: 'replay'; response: IdempotentResponse }
  | { kind: 'claim'; started: StartedData; retry: boolean };

interface Execution {
  streamName: string;
  callerId: string;
  resourceId: string;
  attemptId: string;
  retry: boolean;
  finalParts: FinalParts;
  /** The end of the lease of the execution's claim (see "Leases"); none for a sole writer. */
  claimValidUntil: Date | undefined;
}

type Settled = { ok: true; outcome: IdempotentOutcome } | { ok: false; error: unknown };

interface Flight {
  fingerprint: string;
  settled: Promise<Settled>;
}

const requirePositive = (name: string, value: number): number => {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
};

const outcomeOf = (response: IdempotentResponse, replayed: boolean): IdempotentOutcome => ({
  status: response.status,
  body: response.body,
  headers: response.headers ?? {},
  replayed,
});

const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

export const createIdempotencyStore = (options: IdempotencyStoreOptions): IdempotencyStore => {
  const { eventStore, clock } = options;
  const retentionMs = requirePositive('retentionMs', options.retentionMs ?? DEFAULT_RETENTION_MS);
  const staleAfterMs = requirePositive('staleAfterMs', options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
  // Half the claim's life: the other half is the margin (see "Leases").
  const leaseMs = staleAfterMs / 2;
  const processId = options.processId ?? randomUUID();
  const soleWriter = options.soleWriter ?? false;
  const inFlightWaitMs = requirePositive('inFlightWaitMs', options.inFlightWaitMs ?? DEFAULT_IN_FLIGHT_WAIT_MS);
  const toProblem = options.toProblem ?? defaultToProblem;
  const newAttemptId = options.newAttemptId ?? randomUUID;
  const appendBudget =
    options.maxAppendBytes === undefined ? undefined : requirePositive('maxAppendBytes', options.maxAppendBytes) - APPEND_HEADROOM_BYTES;
  const inFlight = new Map<string, Flight>();

  /**
   * The latest cycle of the stream, read backwards down to its latest `Started`, and further down
   * to the parts of its completion when they were written before a takeover's claim.
   */
  const readRecord = async (streamName: string): Promise<KeyRecord | undefined> => {
    let revision: bigint | undefined;
    let started: StartedData | undefined;
    // Any completion of the cycle wins (the operation happened and that is its response), then an abandonment.
    let completed: IdempotentResponse | CompletionInParts | undefined;
    let abandoned: { finalParts: FinalParts | undefined } | undefined;
    const state = (): RecordState => {
      if (completed === undefined) return abandoned === undefined ? { kind: 'in-progress' } : { kind: 'abandoned', ...abandoned };
      if (!('attemptId' in completed)) return { kind: 'completed', response: completed };
      const { status, headers, texts } = completed;
      const body = JSON.parse(texts.join('')) as JsonValue;
      return { kind: 'completed', response: { status, body, ...(headers === undefined ? {} : { headers }) } };
    };
    try {
      for await (const recorded of eventStore.readStream(streamName, { direction: 'backwards' })) {
        revision ??= recorded.revision;
        const event = idempotencyCatalog.decode(recorded);
        if (started === undefined) {
          if (event.type === idempotentRequestStarted.type) started = event.data;
          else if (event.type === idempotentRequestCompleted.type) completed ??= event.data;
          else if (event.type === idempotentRequestCompletedInParts.type) {
            const { status, headers, attemptId, parts } = event.data;
            completed ??= { status, headers, attemptId, texts: new Array<string | undefined>(parts).fill(undefined), missing: parts };
          } else if (event.type === idempotentRequestAbandoned.type) abandoned ??= { finalParts: event.data.finalParts };
        }
        if (event.type === idempotentResponsePart.type && completed !== undefined && 'attemptId' in completed) {
          const { attemptId, index, text } = event.data;
          if (attemptId === completed.attemptId && index < completed.texts.length && completed.texts[index] === undefined) {
            completed.texts[index] = text;
            completed.missing--;
          }
        }
        const partsMissing = completed !== undefined && 'attemptId' in completed && completed.missing > 0;
        if (started !== undefined && !partsMissing) return { started, revision, state: state() };
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
    if (started === undefined) throw new Error(`idempotency stream ${streamName} has no IdempotentRequestStarted event`);
    throw new Error(`idempotency stream ${streamName} lacks parts of the response its IdempotentRequestCompletedInParts names`);
  };

  /** Whether the latest claim may still be running: not ended, not stale, not a crashed run of ours. */
  const stillRunning = (record: KeyRecord, now: Date): boolean =>
    record.state.kind === 'in-progress' &&
    !(soleWriter && record.started.processId !== processId) &&
    now.getTime() - Date.parse(record.started.startedAt) < staleAfterMs;

  const decide = (record: KeyRecord | undefined, request: ExecuteRequest, now: Date): Decision => {
    // A request never answered (a 5xx, a crash) may have moved money under its resource id: retried
    // past the retention, it finishes that operation, and its answer is then kept a retention again.
    const unanswered = record !== undefined && record.state.kind !== 'completed' && record.started.fingerprint === request.fingerprint;
    const expired = record !== undefined && !unanswered && Date.parse(record.started.expiresAt) <= now.getTime();
    // A key past its retention starts a new cycle, but not while its latest claim may still run
    // (taken over shortly before): the two runs would race, and the first one's caller could be
    // answered with the new request's response.
    if (record !== undefined && expired && stillRunning(record, now)) throw new IdempotentRequestInProgressError(RETRY_AFTER_SECONDS);
    if (record === undefined || expired) {
      return {
        kind: 'claim',
        started: {
          callerId: request.callerId,
          fingerprint: request.fingerprint,
          resourceId: request.newResourceId(),
          startedAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + retentionMs).toISOString(),
          processId,
        },
        retry: false,
      };
    }
    if (record.started.fingerprint !== request.fingerprint) throw new IdempotencyKeyReusedError();
    // The parts the abandoned attempt answered for good (its own and those it carried) ride along.
    const answered = record.state.kind === 'abandoned' ? record.state.finalParts : undefined;
    // A takeover keeps the first claim's retention, unless it has passed (`unanswered` above).
    const expiresAt =
      Date.parse(record.started.expiresAt) <= now.getTime() ? new Date(now.getTime() + retentionMs).toISOString() : record.started.expiresAt;
    const retake: Decision = {
      kind: 'claim',
      started: {
        ...record.started,
        ...(answered === undefined ? {} : { finalParts: answered }),
        startedAt: now.toISOString(),
        expiresAt,
        processId,
      },
      retry: true,
    };
    switch (record.state.kind) {
      case 'completed':
        return { kind: 'replay', response: record.state.response };
      case 'abandoned':
        return retake;
      case 'in-progress':
        if (!stillRunning(record, now)) return retake;
        throw new IdempotentRequestInProgressError(RETRY_AFTER_SECONDS);
    }
  };

  const encode = <D extends IdempotencyEventDefinition>(
    execution: Execution,
    revision: bigint,
    definition: D,
    data: EventDataOf<D>,
  ): EventToAppend => {
    const envelope = createEnvelope(definition, {
      id: deterministicEventId(execution.streamName, revision.toString(), execution.attemptId),
      data,
      metadata: {
        // Ties the record to the operation it guards.
        $correlationId: execution.resourceId,
        actor: execution.callerId,
        occurredAt: clock().toISOString(),
      },
    });
    // What this store built itself (a claim, the response the route produced): the trusted path.
    return toTrustedEventToAppend(envelope, definition);
  };

  const append = async <D extends IdempotencyEventDefinition>(
    execution: Execution,
    expectedRevision: bigint | 'no_stream',
    definition: D,
    data: EventDataOf<D>,
  ): Promise<bigint> => {
    const revision = expectedRevision === 'no_stream' ? 0n : expectedRevision + 1n;
    const event = encode(execution, revision, definition, data);
    const result = await eventStore.appendToStream(execution.streamName, [event], { expectedRevision });
    return result.nextExpectedRevision;
  };

  /** The appends that record `response`, one event each, the completion last. */
  const completionAppends = (execution: Execution, response: IdempotentResponse): ((expected: bigint) => Promise<bigint>)[] => {
    const whole = (expected: bigint) => append(execution, expected, idempotentRequestCompleted, response);
    if (appendBudget === undefined || appendedBytes(encode(execution, 0n, idempotentRequestCompleted, response)) <= appendBudget) {
      return [whole];
    }
    const { attemptId } = execution;
    // A part's own weight, measured with the longest index it could carry.
    const emptyPart = appendedBytes(encode(execution, 0n, idempotentResponsePart, { attemptId, index: Number.MAX_SAFE_INTEGER, text: '' }));
    const texts = sliceForEncoding(JSON.stringify(response.body), appendBudget - emptyPart);
    return [
      ...texts.map((text, index) => (expected: bigint) => append(execution, expected, idempotentResponsePart, { attemptId, index, text })),
      (expected: bigint) =>
        append(execution, expected, idempotentRequestCompletedInParts, {
          status: response.status,
          ...(response.headers === undefined ? {} : { headers: response.headers }),
          attemptId,
          parts: texts.length,
        }),
    ];
  };

  const recordCompletion = async (
    execution: Execution,
    claimRevision: bigint,
    response: IdempotentResponse,
  ): Promise<IdempotentOutcome> => {
    const appends = completionAppends(execution, response);
    let written = 0;
    let expected = claimRevision;
    for (let round = 0; round < MAX_WRITE_ROUNDS; round++) {
      try {
        for (; written < appends.length; written++) expected = await appends[written]!(expected);
        return outcomeOf(response, false);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
      }
      // The claim went stale and another execution took it over: the first completion wins. The
      // parts already written stay where they are; the rest follow the takeover's claim.
      const record = await readRecord(execution.streamName);
      if (record === undefined || record.started.resourceId !== execution.resourceId) break;
      if (record.state.kind === 'completed') return outcomeOf(record.state.response, true);
      // The takeover may have decided otherwise since this run's lease ran out: its answer is the key's.
      const { claimValidUntil } = execution;
      if (claimValidUntil !== undefined && clock().getTime() >= claimValidUntil.getTime()) {
        throw new IdempotentRequestInProgressError(RETRY_AFTER_SECONDS);
      }
      expected = record.revision;
    }
    // The cycle expired under us or writers kept racing: the operation did happen, so say so.
    return outcomeOf(response, false);
  };

  /**
   * Ends the attempt without an answer to remember. A failure that answered parts for good will
   * show them to the client, so they are recorded first, with the parts carried from earlier
   * attempts, and the failure reaches the client only once they are. This order is what makes it
   * safe: a crash before the record leaves the client without an answer, and a retry deciding those
   * parts afresh contradicts nothing it saw; after the record, every later run answers them from it.
   * Parts that could not be recorded must not be seen: the recording failure is thrown instead
   * (an append that failed but landed only means a retry shows the parts for the first time).
   * The record goes only right after this run's own claim, never after a takeover's, whatever the
   * lease: a takeover decides those parts again, and no part this run answered may contradict it.
   */
  const recordAbandonment = async (execution: Execution, claimRevision: bigint, error: unknown): Promise<void> => {
    const answered =
      error instanceof PartlyAnsweredError && Object.keys(error.finalParts).length > 0
        ? { ...execution.finalParts, ...error.finalParts }
        : undefined;
    try {
      await append(execution, claimRevision, idempotentRequestAbandoned, {
        reason: describeError(error),
        ...(answered === undefined ? {} : { finalParts: answered }),
      });
    } catch (failure) {
      // Left without an outcome, the claim goes stale and is taken over: the crash path, still safe.
      if (answered === undefined) return;
      // Another execution took the claim over: its answer is the one to wait for.
      throw failure instanceof WrongExpectedRevisionError ? new IdempotentRequestInProgressError(RETRY_AFTER_SECONDS) : failure;
    }
  };

  const runClaimed = async (
    execution: Execution,
    claimRevision: bigint,
    run: ExecuteRequest['run'],
  ): Promise<IdempotentOutcome> => {
    let response: IdempotentResponse;
    try {
      const { retry, finalParts, claimValidUntil } = execution;
      response = await run(execution.resourceId, { retry, finalParts, ...(claimValidUntil === undefined ? {} : { claimValidUntil }) });
    } catch (error) {
      if (!isBusinessRejection(error)) {
        await recordAbandonment(execution, claimRevision, error);
        throw error;
      }
      response = toProblem(error);
    }
    return recordCompletion(execution, claimRevision, response);
  };

  const executeDurably = async (streamName: string, given: ExecuteRequest): Promise<IdempotentOutcome> => {
    const attemptId = newAttemptId();
    // One id per execution, however many rounds it takes to claim the key.
    let minted: string | undefined;
    const request = { ...given, newResourceId: () => (minted ??= given.newResourceId()) };
    for (let round = 0; round < MAX_WRITE_ROUNDS; round++) {
      // Most keys are new: claim first and read only if the stream turns out to exist.
      const record = round === 0 ? undefined : await readRecord(streamName);
      const decision = decide(record, request, clock());
      if (decision.kind === 'replay') return outcomeOf(decision.response, true);
      const execution: Execution = {
        streamName,
        callerId: request.callerId,
        resourceId: decision.started.resourceId,
        attemptId,
        retry: decision.retry,
        finalParts: decision.started.finalParts ?? {},
        claimValidUntil: soleWriter ? undefined : new Date(Date.parse(decision.started.startedAt) + leaseMs),
      };
      let claimRevision: bigint;
      try {
        const expectedRevision = record?.revision ?? 'no_stream';
        claimRevision = await append(execution, expectedRevision, idempotentRequestStarted, decision.started);
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError) continue;
        throw error;
      }
      return runClaimed(execution, claimRevision, request.run);
    }
    throw new IdempotentRequestInProgressError(RETRY_AFTER_SECONDS);
  };

  const follow = async (flight: Flight): Promise<IdempotentOutcome> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, inFlightWaitMs, undefined);
    });
    try {
      const settled = await Promise.race([flight.settled, timedOut]);
      if (settled === undefined) throw new IdempotentRequestInProgressError(RETRY_AFTER_SECONDS);
      if (!settled.ok) throw settled.error;
      return { ...settled.outcome, replayed: true };
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async execute(request) {
      const streamName = idempotencyStreamName(request.callerId, request.key);
      const flight = inFlight.get(streamName);
      if (flight?.fingerprint === request.fingerprint) return follow(flight);
      // Another request with this key is in flight: the record decides. It may be a request that
      // is about to be refused, and the key's recorded response this one's to replay; or the
      // other one holds the claim, and this one is refused.
      if (flight !== undefined) return executeDurably(streamName, request);
      const settled = executeDurably(streamName, request).then(
        (outcome): Settled => ({ ok: true, outcome }),
        (error: unknown): Settled => ({ ok: false, error }),
      );
      inFlight.set(streamName, { fingerprint: request.fingerprint, settled });
      try {
        const result = await settled;
        if (!result.ok) throw result.error;
        return result.outcome;
      } finally {
        inFlight.delete(streamName);
      }
    },
  };
};
