import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { IllegalStateError, type DocumentSession, type DocumentStore } from '@folio/shared';

/** Who works on which read model: one document per read model, named by its live checkpoint id. */
export const LEASES_COLLECTION = 'projection_leases';

/**
 * How long a claim lasts unless renewed (a third of it apart): a process killed outright (SIGKILL,
 * power loss) stops holding its read model this long after its last renewal.
 */
export const DEFAULT_LEASE_TTL_MS = 30_000;

/**
 * A live projector shares its read model with other live projectors (several instances, a restart
 * beside a process not yet gone); a rebuild or a prune holds it alone: it renames, swaps and drops
 * what projectors write.
 */
export type LeaseKind = 'projector' | 'rebuild' | 'prune';

export type LeaseClaim = {
  kind: LeaseKind;
  pid: number;
  host: string;
  /** ISO-8601: the claim no longer counts after it. */
  expiresAt: string;
};

type LeaseDocument = {
  _id: string;
  claims: Record<string, LeaseClaim>;
};

const whoHolds = (claim: LeaseClaim): string => `pid ${claim.pid} on ${claim.host}, claimed until ${claim.expiresAt}`;

/** The read model is held by someone whose work excludes the work asked for. */
export class ReadModelBusyError extends IllegalStateError {
  readonly readModel: string;
  readonly claim: LeaseClaim;

  constructor(readModel: string, claim: LeaseClaim, wanted: LeaseKind) {
    const doing = claim.kind === 'projector' ? 'a live projector is running' : `a ${claim.kind} is in progress`;
    const advice =
      claim.kind === 'projector'
        ? `stop it first (npm start, npm run start:projections); a projector that was killed without stopping holds it until then`
        : `try again once it has ended; one that was killed holds it until then`;
    super(`cannot ${wanted === 'projector' ? 'project' : wanted} ${readModel}: ${doing} on it (${whoHolds(claim)}); ${advice}`, {
      currentState: claim.kind === 'projector' ? 'projecting' : `${claim.kind}-in-progress`,
      type: 'read-model-busy',
    });
    this.readModel = readModel;
    this.claim = claim;
  }
}

/**
 * The claim ran out before a renewal succeeded (the store unreachable longer than the lease):
 * someone else may have taken the read model since, so its holder must stop working on it.
 */
export class ReadModelLeaseLapsedError extends IllegalStateError {
  readonly readModels: readonly string[];

  constructor(readModels: readonly string[], lapsedAt: number) {
    super(
      `the claim on ${readModels.join(', ')} lapsed at ${new Date(lapsedAt).toISOString()} without a renewal: ` +
        'others may have worked on them since; stop, and start again',
      { currentState: 'lease-lapsed', type: 'read-model-lease-lapsed' },
    );
    this.readModels = readModels;
  }
}

/**
 * `release` could not remove the claim (the store refused, or did not answer in time). The claim
 * lapses by itself a time to live after its last renewal, and the read models are free then.
 */
export class ReadModelLeaseNotReleasedError extends Error {
  readonly readModels: readonly string[];

  constructor(readModels: readonly string[], ttlMs: number, cause: unknown) {
    super(
      `the claim on ${readModels.join(', ')} was not released (${cause instanceof Error ? cause.message : String(cause)}): ` +
        `it lapses by itself ${ttlMs / 1000} s after its last renewal`,
      { cause },
    );
    this.name = 'ReadModelLeaseNotReleasedError';
    this.readModels = readModels;
  }
}

/** How long `release` waits for the store before it gives up. */
export const DEFAULT_LEASE_RELEASE_TIMEOUT_MS = 5_000;

/** The time and timers a lease runs on: the system's, or a test's. */
export interface LeaseClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): { unref(): unknown };
  clearTimeout(timer: { unref(): unknown }): void;
}

const systemClock: LeaseClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

const live = (claims: Record<string, LeaseClaim>, now: number): [string, LeaseClaim][] =>
  Object.entries(claims).filter(([, claim]) => Date.parse(claim.expiresAt) > now);

/** The claims on `readModel` that have not expired. */
export const leaseClaims = async (documents: DocumentStore, readModel: string): Promise<LeaseClaim[]> => {
  const stored = await documents.get<LeaseDocument>(LEASES_COLLECTION, readModel);
  return live(stored?.claims ?? {}, Date.now()).map(([, claim]) => claim);
};

/**
 * Claims (or renews the claim on) every read model named, all or none, in one transaction: two
 * claimants write the same document, so one of them sees the other's claim.
 */
const claim = async (
  documents: DocumentStore,
  readModels: readonly string[],
  holder: string,
  kind: LeaseKind,
  ttlMs: number,
  clock: LeaseClock,
): Promise<void> => {
  await documents.withTransaction(async (session: DocumentSession) => {
    const now = clock.now();
    for (const readModel of readModels) {
      const stored = await session.get<LeaseDocument>(LEASES_COLLECTION, readModel);
      const others = live(stored?.claims ?? {}, now).filter(([id]) => id !== holder);
      const excluding = others.find(([, other]) => kind !== 'projector' || other.kind !== 'projector');
      if (excluding !== undefined) throw new ReadModelBusyError(readModel, excluding[1], kind);
      const claims = Object.fromEntries([
        ...others,
        [holder, { kind, pid: process.pid, host: hostname(), expiresAt: new Date(now + ttlMs).toISOString() }],
      ]);
      await session.put(LEASES_COLLECTION, { _id: readModel, claims });
    }
  });
};

const unclaim = async (documents: DocumentStore, readModels: readonly string[], holder: string, clock: LeaseClock): Promise<void> => {
  await documents.withTransaction(async (session) => {
    const now = clock.now();
    for (const readModel of readModels) {
      const stored = await session.get<LeaseDocument>(LEASES_COLLECTION, readModel);
      if (stored === undefined) continue;
      const claims = Object.fromEntries(live(stored.claims, now).filter(([id]) => id !== holder));
      if (Object.keys(claims).length === 0) await session.delete(LEASES_COLLECTION, readModel);
      else await session.put(LEASES_COLLECTION, { _id: readModel, claims });
    }
  });
};

export interface ReadModelLeaseOptions {
  documents: DocumentStore;
  /** The read models held, by their live checkpoint ids (`<name>_v<version>`). */
  readModels: readonly string[];
  kind: LeaseKind;
  ttlMs?: number;
  /** A renewal that failed: the store, or (after a stall longer than the lease) an exclusive holder took over. */
  onRenewalError: (error: unknown) => void;
  /** A renewal that succeeded: the store answers again after renewals that failed. */
  onRenewed?: () => void;
  /** How long `release` waits for the store: a stop must not hang on one that does not answer. */
  releaseTimeoutMs?: number;
  clock?: LeaseClock;
}

/**
 * A claim on read models that lasts while this process renews it. `acquire` throws
 * `ReadModelBusyError` when someone holds one of them in a way that excludes `kind`; once
 * acquired, the claim is renewed in the background until `release`.
 *
 * The holder counts its claim from before each claim was sent (never later than the store's
 * record of it), so it stops holding no later than others may start. Once that time has passed
 * without a renewal the claim has lapsed: `onRenewalError` gets `ReadModelLeaseLapsedError` at
 * that moment, `held` turns false, and no renewal is tried again, since a later one would hide
 * that others may have worked on the read models in between. Only `acquire` claims them anew, as
 * any claimant would (a live projector does, once it has stopped writing).
 */
export const createReadModelLease = ({
  documents,
  readModels,
  kind,
  ttlMs = DEFAULT_LEASE_TTL_MS,
  onRenewalError,
  onRenewed,
  releaseTimeoutMs = DEFAULT_LEASE_RELEASE_TIMEOUT_MS,
  clock = systemClock,
}: ReadModelLeaseOptions) => {
  const holder = randomUUID();
  let acquired = false;
  /** Until when this holder holds the claim, unless renewed. */
  let heldUntil = 0;
  let lapsed: ReadModelLeaseLapsedError | undefined;
  let renewalTimer: { unref(): unknown } | undefined;
  let lapseTimer: { unref(): unknown } | undefined;
  let renewing: Promise<void> | undefined;
  const renewEvery = Math.max(1, Math.floor(ttlMs / 3));

  // The holder's own work keeps the process alive; a claim alone must not.
  const timeout = (callback: () => void, ms: number) => {
    const timer = clock.setTimeout(callback, ms);
    timer.unref();
    return timer;
  };
  const stopTimers = (): void => {
    if (renewalTimer !== undefined) clock.clearTimeout(renewalTimer);
    if (lapseTimer !== undefined) clock.clearTimeout(lapseTimer);
    renewalTimer = undefined;
    lapseTimer = undefined;
  };
  const lapse = (): void => {
    if (!acquired || lapsed !== undefined) return;
    stopTimers();
    lapsed = new ReadModelLeaseLapsedError(readModels, heldUntil);
    onRenewalError(lapsed);
  };
  const holdUntil = (until: number): void => {
    heldUntil = until;
    if (lapseTimer !== undefined) clock.clearTimeout(lapseTimer);
    lapseTimer = timeout(() => {
      lapseTimer = undefined;
      lapse();
    }, Math.max(0, until - clock.now()));
  };
  const scheduleRenewal = (): void => {
    renewalTimer = timeout(() => {
      const askedAt = clock.now();
      renewing = claim(documents, readModels, holder, kind, ttlMs, clock)
        .then(
          () => {
            if (lapsed !== undefined) return;
            // One asked for before a later `acquire` (after a lapse) tells nothing new, and must not cut its claim short.
            if (askedAt + ttlMs > heldUntil) holdUntil(askedAt + ttlMs);
            onRenewed?.();
          },
          (error: unknown) => {
            if (lapsed === undefined) onRenewalError(error);
          },
        )
        .finally(() => {
          renewing = undefined;
          if (acquired && lapsed === undefined) scheduleRenewal();
        });
    }, renewEvery);
  };
  const held = (): boolean => {
    // The lapse timer may not have had its turn yet: the clock says.
    if (acquired && lapsed === undefined && clock.now() >= heldUntil) lapse();
    return acquired && lapsed === undefined;
  };

  return {
    async acquire(): Promise<void> {
      const askedAt = clock.now();
      await claim(documents, readModels, holder, kind, ttlMs, clock);
      acquired = true;
      lapsed = undefined;
      holdUntil(askedAt + ttlMs);
      if (renewalTimer === undefined && renewing === undefined) scheduleRenewal();
    },
    /** Whether the claim still holds: false once it has lapsed, or before `acquire` and after `release`. */
    held,
    /** Throws `ReadModelLeaseLapsedError` unless the claim still holds: before each step a lapsed holder must not take. */
    requireHeld(): void {
      if (!held()) throw lapsed ?? new ReadModelLeaseLapsedError(readModels, heldUntil);
    },
    /**
     * Removes the claim. Throws `ReadModelLeaseNotReleasedError` when the store refuses, or has not
     * answered within `releaseTimeoutMs`; the claim is no longer renewed either way.
     */
    async release(): Promise<void> {
      if (!acquired) return;
      acquired = false;
      stopTimers();
      const releasing = (async () => {
        await renewing;
        await unclaim(documents, readModels, holder, clock);
      })();
      // Given up on, it may still fail later: nobody waits for it then.
      releasing.catch(() => undefined);
      let giveUp: { unref(): unknown } | undefined;
      const unanswered = new Promise<never>((_, reject) => {
        giveUp = timeout(() => reject(new Error(`the store did not answer within ${releaseTimeoutMs} ms`)), releaseTimeoutMs);
      });
      try {
        await Promise.race([releasing, unanswered]);
      } catch (error) {
        throw new ReadModelLeaseNotReleasedError(readModels, ttlMs, error);
      } finally {
        clock.clearTimeout(giveUp!);
      }
    },
  };
};

export type ReadModelLease = ReturnType<typeof createReadModelLease>;
