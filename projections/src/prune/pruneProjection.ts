import { IllegalStateError, type DocumentStore, type SearchIndex } from '@folio/shared';
import {
  CHECKPOINTS_COLLECTION,
  REBUILD_SUFFIX,
  isSearchIndexOfVersion,
  liveCheckpointId,
  liveSearchIndexes,
  searchAliases,
  searchIndexesOfCheckpoint,
  type ProjectionDefinition,
} from '../runtime/projection.js';
import { createReadModelLease, LEASES_COLLECTION } from '../runtime/readModelLease.js';
import { storedCheckpointSchema } from '../runtime/storedProgress.js';

export interface PruneReport {
  projection: string;
  /** The version kept: the definition's. */
  version: number;
  /** What was dropped, all of older versions. */
  collections: string[];
  checkpoints: string[];
  searchIndexes: string[];
}

/** The version a name ends with, `<stem>v<version>` and an optional suffix; `undefined` for another name. */
const versionIn = (name: string, stem: string, suffix: RegExp): number | undefined => {
  if (!name.startsWith(stem)) return undefined;
  const match = /^v(\d+)(.*)$/s.exec(name.slice(stem.length));
  return match === null || !suffix.test(match[2]!) ? undefined : Number(match[1]);
};

/**
 * Drops what older versions of a read model left: their collections (and leftovers of their
 * rebuilds), checkpoints and search indexes. A new version builds beside the old one, and the old
 * one stays for a rollback until this runs, which is once every instance runs the new version.
 * Refused while a search alias still names an older version's index, and while an older version is
 * stored and the current one's checkpoint does not record that it has caught up: readers use the
 * older version until then. Refused too (`ReadModelBusyError`) while a projector, a rebuild or
 * a prune holds an older version: an instance not yet upgraded still projects and reads it.
 */
export const pruneProjection = async (options: {
  documents: DocumentStore;
  searchIndex: SearchIndex;
  definition: ProjectionDefinition;
}): Promise<PruneReport> => {
  const { documents, searchIndex, definition } = options;
  const { name, version } = definition;
  const ownIndexes = liveSearchIndexes(definition);
  const aliases: { alias: string; aliased: string | undefined }[] = [];
  for (const [role, alias] of Object.entries(searchAliases(definition))) {
    const aliased = await searchIndex.resolveAlias(alias);
    aliases.push({ alias, aliased });
    if (aliased !== undefined && !isSearchIndexOfVersion(ownIndexes[role]!, aliased)) {
      throw new IllegalStateError(
        `the search alias ${alias} still names ${aliased}: version ${version} of ${name} has not caught up yet; prune once it has`,
        { currentState: 'catching-up', type: 'projection-catching-up' },
      );
    }
  }

  const older = (found: number | undefined): boolean => found !== undefined && found < version;
  const liveOrRebuilt = new RegExp(`^(${REBUILD_SUFFIX})?$`);
  const collectionVersion = (collection: string): number | undefined => {
    const role = /^[A-Za-z][A-Za-z0-9]*_/.exec(collection.slice(name.length + 1))?.[0];
    return role === undefined ? undefined : versionIn(collection, `${name}_${role}`, liveOrRebuilt);
  };
  const collections = (await documents.listCollections(`${name}_`)).filter((collection) => older(collectionVersion(collection)));
  const checkpointIds: string[] = [];
  // What older versions' checkpoints say they wrote, and what the current version's say it writes:
  // an index named by both (a projector can be given any index name) is not dropped.
  const namedByOlder = new Set<string>();
  const inUse = new Set<string>();
  // The current version's checkpoint, and the older version furthest along: the one readers read meanwhile.
  let current: ReturnType<typeof storedCheckpointSchema.parse> | undefined;
  let furthestOlder: { version: number; position: bigint } | undefined;
  for (let page = await documents.find(CHECKPOINTS_COLLECTION, { idPrefix: `${name}_v` }); ; ) {
    for (const checkpoint of page.items) {
      const found = versionIn(checkpoint._id, `${name}_`, liveOrRebuilt);
      if (found === undefined) continue;
      const named = Object.values(searchIndexesOfCheckpoint(checkpoint) ?? {});
      // A version's own checkpoint, not a rebuild's.
      const own = checkpoint._id === liveCheckpointId({ ...definition, version: found });
      if (older(found)) {
        checkpointIds.push(checkpoint._id);
        for (const index of named) namedByOlder.add(index);
        if (own) {
          const { position } = storedCheckpointSchema.parse(checkpoint);
          if (furthestOlder === undefined || position > furthestOlder.position) furthestOlder = { version: found, position };
        }
      } else {
        for (const index of named) inUse.add(index);
        if (own && found === version) current = storedCheckpointSchema.parse(checkpoint);
      }
    }
    if (page.nextCursor === undefined) break;
    page = await documents.find(CHECKPOINTS_COLLECTION, { idPrefix: `${name}_v`, after: page.nextCursor });
  }
  // Readers read an older version until the current one has caught up (without search, only its
  // checkpoint tells): dropping it before would leave them a half-built one.
  if (furthestOlder !== undefined && current?.caughtUpOnce !== true) {
    const reached = current === undefined ? 'has projected nothing yet' : `is at position ${current.position}`;
    throw new IllegalStateError(
      `version ${version} of ${name} has not caught up with the log yet: it ${reached}, version ${furthestOlder.version} is at ${furthestOlder.position}; prune once it has`,
      { currentState: 'catching-up', type: 'projection-catching-up' },
    );
  }
  const searchIndexes: string[] = [];
  for (const { alias, aliased } of aliases) {
    for (const index of await searchIndex.listIndexes(`${alias}-v`)) {
      if (index !== aliased && older(versionIn(index, `${alias}-`, /^(-rebuild-.+)?$/))) searchIndexes.push(index);
    }
  }
  // An older version's role the current one no longer has: its aliases are not the definition's,
  // so only the checkpoints tell where its indexes are.
  for (const index of [...namedByOlder].sort()) {
    if (inUse.has(index) || searchIndexes.includes(index)) continue;
    if ((await searchIndex.listIndexes(index)).includes(index)) searchIndexes.push(index);
  }

  // Every older version with something stored, or someone working on it, is held while it goes:
  // a projector of one started meanwhile waits, and then builds it again from the log.
  const olderVersions = new Set<number>();
  for (const collection of collections) olderVersions.add(collectionVersion(collection)!);
  for (const id of checkpointIds) olderVersions.add(versionIn(id, `${name}_`, liveOrRebuilt)!);
  for (let page = await documents.find(LEASES_COLLECTION, { idPrefix: `${name}_v` }); ; ) {
    for (const { _id } of page.items) {
      const found = versionIn(_id, `${name}_`, /^$/);
      if (older(found)) olderVersions.add(found!);
    }
    if (page.nextCursor === undefined) break;
    page = await documents.find(LEASES_COLLECTION, { idPrefix: `${name}_v`, after: page.nextCursor });
  }
  const lease = createReadModelLease({
    documents,
    readModels: [...olderVersions].sort((a, b) => a - b).map((older) => liveCheckpointId({ ...definition, version: older })),
    kind: 'prune',
    // Dropping is not undone by stopping halfway: a lapsed claim leaves the drops to finish.
    onRenewalError: () => undefined,
  });
  await lease.acquire();
  try {
    for (const collection of collections) await documents.dropCollection(collection);
    if (checkpointIds.length > 0) {
      await documents.withTransaction(async (session) => {
        for (const id of checkpointIds) await session.delete(CHECKPOINTS_COLLECTION, id);
      });
    }
    for (const index of searchIndexes) await searchIndex.dropIndex(index);
  } finally {
    await lease.release();
  }
  return { projection: name, version, collections, checkpoints: checkpointIds, searchIndexes };
};
