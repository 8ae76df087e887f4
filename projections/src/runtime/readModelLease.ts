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
const claim = async (documents: DocumentStore, readModels: readonly string[], holder: string, kind: LeaseKind, ttlMs: number): Promise<void> => {
  await documents.withTransaction(async (session: DocumentSession) => {
    const now = Date.now();
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

const unclaim = async (documents: DocumentStore, readModels: readonly string[], holder: string): Promise<void> => {
  await documents.withTransaction(async (session) => {
    const now = Date.now();
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
}

/**
 * A claim on read models that lasts while this process renews it. `acquire` throws
 * `ReadModelBusyError` when someone holds one of them in a way that excludes `kind`; once
 * acquired, the claim is renewed in the background until `release`.
 */
export const createReadModelLease = ({ documents, readModels, kind, ttlMs = DEFAULT_LEASE_TTL_MS, onRenewalError }: ReadModelLeaseOptions) => {
  const holder = randomUUID();
  let timer: NodeJS.Timeout | undefined;
  let renewing: Promise<void> | undefined;
  return {
    async acquire(): Promise<void> {
      await claim(documents, readModels, holder, kind, ttlMs);
      timer ??= setInterval(() => {
        renewing ??= claim(documents, readModels, holder, kind, ttlMs)
          .catch(onRenewalError)
          .finally(() => {
            renewing = undefined;
          });
      }, Math.max(1, Math.floor(ttlMs / 3)));
      // The holder's own work keeps the process alive; a claim alone must not.
      timer.unref();
    },
    async release(): Promise<void> {
      if (timer === undefined) return;
      clearInterval(timer);
      timer = undefined;
      await renewing;
      await unclaim(documents, readModels, holder);
    },
  };
};

export type ReadModelLease = ReturnType<typeof createReadModelLease>;
