/**
 * Which version of each read model its readers read (docs/production.md, "Upgrades"): the query
 * side, and the write side looking up the discrepancies its workflow acts on. A new version is
 * built from position 0 into collections of its own, beside the older version's, which stay:
 * until it has caught up, the older version is read, so no reader sees a half-built model, and a
 * reader waiting for its write waits for the version it reads.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DocumentStore, GlobalPosition, SearchIndex } from '@folio/shared';
import { projectionDefinitions, type Projections } from './projections.js';
import {
  CHECKPOINTS_COLLECTION,
  isSearchIndexOfVersion,
  liveCheckpointId,
  liveCollections,
  liveSearchIndexes,
  searchAliases,
  type ProjectionDefinition,
} from './runtime/projection.js';
import { statusesOf } from './runtime/positionWaiters.js';
import type { ProjectorStatus } from './runtime/projector.js';
import { slowestPosition } from './runtime/slowestPosition.js';
import { storedCheckpointSchema } from './runtime/storedProgress.js';

/** How far the read models' projectors are, and a way to wait for them: in-process, or as their stored checkpoints tell. */
export interface ReadModelProgress {
  waitFor: Projections['waitFor'];
  status(): readonly ProjectorStatus[];
}

export interface ServedReadModelsOptions {
  documents: DocumentStore;
  /** The progress of the read models' current versions. */
  projections: ReadModelProgress;
  /**
   * A read model with search is read in the version its aliases name: the projector moves them to
   * the new version's indexes once it has caught up, and the documents must be those the search
   * finds. Without it (a reader that searches nothing) such a read model is judged by its
   * checkpoints like the others.
   */
  searchIndex?: SearchIndex;
  /** How long the choice of an older version stands before it is checked again. */
  recheckMs?: number;
}

/** An older version of a read model, as its stored checkpoint tells. */
interface OlderVersion {
  version: number;
  position: GlobalPosition;
  lastEventAt: Date | undefined;
}

/** The version of a read model read now. */
export interface ServedVersion {
  collections: Readonly<Record<string, string>>;
  /** Its progress, taken before its documents are read: every event up to its position is in them. */
  status: ProjectorStatus;
}

const DONE = Promise.resolve();

/** The one furthest along; of two as far, the newer. */
const furthest = (a: OlderVersion, b: OlderVersion): OlderVersion =>
  b.position > a.position || (b.position === a.position && b.version > a.version) ? b : a;

/**
 * The read models as their readers read them: each in its current version once that has caught
 * up (as its checkpoint records, or when no older one is stored: a fresh install), otherwise in the
 * older version furthest along. The choice is cached: a read model read in its current version
 * stays there, so in the steady state nothing is read to choose; one read in an older version is
 * checked again at most every `recheckMs`.
 */
export const createServedReadModels = ({ documents, projections, searchIndex, recheckMs = 100 }: ServedReadModelsOptions) => {
  /** The read models read in an older version, by name; the others are read in the current one. */
  const olderRead = new Map<string, OlderVersion>();
  let checked = false;
  let checkedAt = 0;
  let checking: Promise<void> | undefined;

  const currentStatus = (definition: ProjectionDefinition): ProjectorStatus =>
    projections.status().find(({ name }) => name === definition.name) ?? {
      name: definition.name,
      position: undefined,
      caughtUp: false,
      lastEventAt: undefined,
      filter: definition.filter,
    };

  /** The older versions of a read model whose checkpoints are stored (pruning drops them). */
  const storedOlderVersions = async (definition: ProjectionDefinition): Promise<OlderVersion[]> => {
    const prefix = `${definition.name}_v`;
    const found: OlderVersion[] = [];
    let after: string | undefined;
    do {
      const page = await documents.find(CHECKPOINTS_COLLECTION, { idPrefix: prefix, ...(after === undefined ? {} : { after }) });
      for (const checkpoint of page.items) {
        const version = checkpoint._id.slice(prefix.length);
        // A rebuild's checkpoint is no version of its own; a newer version (after a rollback) is not this code's to read.
        if (!/^\d+$/.test(version) || Number(version) >= definition.version) continue;
        const { position, lastEventAt } = storedCheckpointSchema.parse(checkpoint);
        found.push({ version: Number(version), position, lastEventAt: lastEventAt === null ? undefined : new Date(lastEventAt) });
      }
      after = page.nextCursor;
    } while (after !== undefined);
    return found;
  };

  /** Whether the current version's checkpoint records that it has caught up with the log once. */
  const recordedCaughtUp = async (definition: ProjectionDefinition): Promise<boolean> => {
    const checkpoint = await documents.get(CHECKPOINTS_COLLECTION, liveCheckpointId(definition));
    return checkpoint !== undefined && storedCheckpointSchema.parse(checkpoint).caughtUpOnce;
  };

  /** The older version a read model's search aliases name, if any (the oldest, while they move one by one). */
  const aliasedOlderVersion = async (definition: ProjectionDefinition, olders: readonly OlderVersion[], search: SearchIndex) => {
    let oldest: OlderVersion | undefined;
    for (const [role, alias] of Object.entries(searchAliases(definition))) {
      const aliased = await search.resolveAlias(alias);
      const named =
        aliased === undefined
          ? undefined
          : olders.find(({ version }) => isSearchIndexOfVersion(liveSearchIndexes({ ...definition, version })[role]!, aliased));
      if (named !== undefined && (oldest === undefined || named.version < oldest.version)) oldest = named;
    }
    return oldest;
  };

  /** The older version to read instead of the current one; `undefined` to read the current one. */
  const olderVersionToRead = async (definition: ProjectionDefinition): Promise<OlderVersion | undefined> => {
    // Taken before the older checkpoints are read, which only move on: compared with them, it is never overtaken.
    const current = currentStatus(definition);
    const olders = await storedOlderVersions(definition);
    if (olders.length === 0) return undefined;
    if (searchIndex !== undefined && definition.searchRoles !== undefined) return aliasedOlderVersion(definition, olders, searchIndex);
    if (await recordedCaughtUp(definition)) return undefined;
    const older = olders.reduce(furthest);
    // Without that record (a checkpoint stored before it was kept, or not caught up yet): caught up
    // with the log now, or at least as far as every older version (a stopped one stays behind).
    const caughtUp = current.caughtUp || (current.position !== undefined && current.position >= older.position);
    return caughtUp ? undefined : older;
  };

  const recheck = async (): Promise<void> => {
    for (const definition of projectionDefinitions) {
      // Once read in its current version, a read model stays there.
      if (checked && !olderRead.has(definition.name)) continue;
      const older = await olderVersionToRead(definition);
      if (older === undefined) olderRead.delete(definition.name);
      else olderRead.set(definition.name, older);
    }
    checked = true;
    checkedAt = Date.now();
  };

  /** Makes the choice fresh: at once the first time, then only while an older version is read. */
  const check = (): Promise<void> => {
    if (checked && (olderRead.size === 0 || Date.now() - checkedAt < recheckMs)) return DONE;
    checking ??= recheck().finally(() => {
      checking = undefined;
    });
    return checking;
  };

  const servedStatus = (definition: ProjectionDefinition): ProjectorStatus => {
    const older = olderRead.get(definition.name);
    if (older === undefined) return currentStatus(definition);
    // An older version is read only while the current one has not caught up.
    return { name: definition.name, position: older.position, caughtUp: false, lastEventAt: older.lastEventAt, filter: definition.filter };
  };

  /**
   * The progress of the versions read, one per read model named (all without names), after
   * `check`: in the steady state, the projectors' own.
   */
  const status = (names?: readonly string[]): readonly ProjectorStatus[] =>
    statusesOf(olderRead.size === 0 ? projections.status() : projectionDefinitions.map(servedStatus), names);

  return {
    check,
    status,
    /** The version of `definition` to read now. */
    async serving(definition: ProjectionDefinition): Promise<ServedVersion> {
      await check();
      const version = olderRead.get(definition.name)?.version ?? definition.version;
      return { collections: liveCollections({ ...definition, version }), status: servedStatus(definition) };
    },
    /** Resolves true once the versions read of the read models named (all without names) reflect `target`, or false after `timeoutMs`. */
    async waitFor(target: GlobalPosition, timeoutMs: number, names?: readonly string[]): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      const awaited = names === undefined ? projectionDefinitions : projectionDefinitions.filter(({ name }) => names.includes(name));
      for (;;) {
        await check();
        // Each read model awaited in its current version: the projectors tell when, without polling.
        if (awaited.every(({ name }) => !olderRead.has(name))) return projections.waitFor(target, Math.max(0, deadline - Date.now()), names);
        const reached = slowestPosition(awaited.map(servedStatus));
        if (reached !== undefined && reached >= target) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        // An older version's checkpoint is read again by the next check.
        await sleep(Math.min(recheckMs, left));
      }
    },
  };
};

export type ServedReadModels = ReturnType<typeof createServedReadModels>;
