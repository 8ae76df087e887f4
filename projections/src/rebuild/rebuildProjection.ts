import {
  SearchIndexDisagreementError,
  type DocumentStore,
  type EventFilter,
  type EventStore,
  type GlobalPosition,
  type SearchIndex,
} from '@folio/shared';
import {
  CHECKPOINTS_COLLECTION,
  isSearchIndexOfVersion,
  liveCheckpointId,
  liveCollections,
  liveSearchIndexes,
  REBUILD_SUFFIX,
  rebuiltSearchIndex,
  searchAliases,
  searchIndexesOfCheckpoint,
  type ProjectionDefinition,
} from '../runtime/projection.js';
import { createProjector } from '../runtime/projector.js';
import { createReadModelLease, ReadModelBusyError, ReadModelLeaseLapsedError } from '../runtime/readModelLease.js';
import { readModelChecksum } from '../runtime/readModelChecksum.js';

export interface RebuildReport {
  projection: string;
  /**
   * The rebuilt read model's log position when compared, which the live checkpoint takes. The live
   * one reflected the same events; its position may differ by events the read model skips.
   */
  position: GlobalPosition | undefined;
  /**
   * Per collection role, and per search role (`search:<role>`): live and rebuilt checksums. A live
   * search index whose own rows disagree with its documents has no checksum: its `live` says why.
   */
  checksums: Record<string, { live: string; rebuilt: string }>;
  /** True when every rebuilt collection equals the live one. */
  identical: boolean;
}

/**
 * Rebuilds a read model from position 0 beside the live one, brings both to the same log
 * position, compares their checksums (a difference is drift between the log and the read model),
 * then puts the rebuilt collections in the live ones' place, each by an atomic rename: readers see
 * the old or the new collection, never neither. The rebuilt one's checkpoint becomes the live
 * checkpoint.
 *
 * A live projector of the read model would keep writing beside the swap (into the indexes it
 * drops, with checkpoints that undo it), and another rebuild would drop this one's indexes: the
 * rebuild claims the read model alone (`readModelLease`) and throws `ReadModelBusyError` while a
 * projector, a rebuild or a prune holds it. Projectors started meanwhile wait for it to end.
 */
export const rebuildProjection = async (options: {
  eventStore: EventStore;
  documents: DocumentStore;
  searchIndex?: SearchIndex;
  definition: ProjectionDefinition;
  /** Distinguishes this rebuild's search indexes from earlier ones (they cannot be renamed). */
  rebuildId: string;
  /** How long the rebuild's claim on the read model outlives its process when it is killed outright. */
  leaseTtlMs?: number;
}): Promise<RebuildReport> => {
  const { documents, definition } = options;
  let overtaken: ReadModelBusyError | ReadModelLeaseLapsedError | undefined;
  const lease = createReadModelLease({
    documents,
    readModels: [liveCheckpointId(definition)],
    kind: 'rebuild',
    ...(options.leaseTtlMs === undefined ? {} : { ttlMs: options.leaseTtlMs }),
    // A renewal the store failed is tried again at the next; one refused, or none in time, means the claim lapsed.
    onRenewalError: (error) => {
      if (error instanceof ReadModelBusyError || error instanceof ReadModelLeaseLapsedError) overtaken ??= error;
    },
  });
  await lease.acquire();
  try {
    const report = await rebuildHeld(options, lease.requireHeld);
    // The claim lapsed while the rebuild ran (a stall longer than it lasts): someone else worked
    // on the read model beside the swap, and the result cannot be vouched for.
    if (overtaken !== undefined) throw overtaken;
    return report;
  } finally {
    await lease.release();
  }
};

const rebuildHeld = async (options: Parameters<typeof rebuildProjection>[0], requireHeld: () => void): Promise<RebuildReport> => {
  const { eventStore, documents, definition, searchIndex } = options;
  const live = liveCollections(definition);
  const rebuilt = Object.fromEntries(Object.entries(live).map(([role, name]) => [role, `${name}${REBUILD_SUFFIX}`]));
  const aliases = searchAliases(definition);
  const liveSearch = liveSearchIndexes(definition);
  const rebuiltSearch = Object.fromEntries(
    Object.entries(liveSearch).map(([role, name]) => [role, rebuiltSearchIndex(name, options.rebuildId)]),
  );
  const liveCheckpoint = liveCheckpointId(definition);
  const rebuildCheckpointId = `${liveCheckpoint}${REBUILD_SUFFIX}`;

  // Leftovers of an interrupted rebuild are discarded: it starts again from position 0.
  const existing = new Set(await documents.listCollections());
  for (const name of Object.values(rebuilt)) if (existing.has(name)) await documents.dropCollection(name);
  await documents.withTransaction((session) => session.delete(CHECKPOINTS_COLLECTION, rebuildCheckpointId));
  // Their search indexes too, but for what readers read (the alias) and what the live projector
  // writes (its checkpoint): a rebuild that died after the checkpoint swap made its index that.
  if (searchIndex !== undefined) {
    const liveNamed = searchIndexesOfCheckpoint(await documents.get(CHECKPOINTS_COLLECTION, liveCheckpoint)) ?? {};
    for (const [role, alias] of Object.entries(aliases)) {
      const keep = new Set([await searchIndex.resolveAlias(alias), liveNamed[role]]);
      for (const index of await indexesOfVersion(searchIndex, liveSearch[role]!)) if (!keep.has(index)) await searchIndex.dropIndex(index);
    }
  }

  const catchUp = async (collections: Record<string, string>, checkpointId: string, searchIndexes?: Record<string, string>) => {
    const projector = createProjector({
      eventStore,
      documents,
      definition,
      collections,
      checkpointId,
      leased: false,
      ...(searchIndex === undefined ? {} : { searchIndex }),
      ...(searchIndexes === undefined ? {} : { searchIndexes }),
    });
    await projector.start();
    await projector.stop();
    return projector.status().position;
  };

  // Both catch up until they reflect the same events (the log may grow in between). Their
  // positions may differ by events the read model skips: the live one, fed beside other read
  // models, passes its last event with theirs, and a log that reports no skipped events at its
  // head (EventStoreDB) leaves the rebuilt one at its last event.
  let position = await catchUp(rebuilt, rebuildCheckpointId, rebuiltSearch);
  for (;;) {
    const livePosition = await catchUp(live, liveCheckpoint);
    position = await catchUp(rebuilt, rebuildCheckpointId, rebuiltSearch);
    if (await reflectSameEvents(eventStore, definition.filter, livePosition, position)) break;
  }

  const checksums: RebuildReport['checksums'] = {};
  for (const role of definition.roles) {
    checksums[role] = {
      live: await readModelChecksum(documents, definition, role, live[role]!),
      rebuilt: await readModelChecksum(documents, definition, role, rebuilt[role]!),
    };
  }

  const previousSearch: string[] = [];
  for (const [role, alias] of Object.entries(aliases)) {
    await searchIndex!.refresh(rebuiltSearch[role]!);
    const current = await searchIndex!.resolveAlias(alias);
    checksums[`search:${role}`] = {
      live: current === undefined ? '' : await liveSearchChecksum(searchIndex!, current),
      // A rebuilt index that disagrees with its own documents throws: it must not go live.
      rebuilt: await searchIndex!.checksum(rebuiltSearch[role]!),
    };
    if (current !== undefined) previousSearch.push(current);
  }

  // Nothing is swapped once the claim has lapsed: others may be working on the read model.
  requireHeld();
  // A role the log gave no document has no rebuilt collection: the live one (empty too, or the
  // checksums said otherwise) goes.
  const written = new Set(await documents.listCollections());
  for (const role of definition.roles) {
    if (written.has(rebuilt[role]!)) await documents.renameCollection(rebuilt[role]!, live[role]!);
    else if (written.has(live[role]!)) await documents.dropCollection(live[role]!);
  }
  // Before anything of the old search index goes: the live checkpoint names the rebuilt indexes,
  // so a projector started after a crash at any later step writes there and moves the alias
  // there once caught up. A crash before leaves the old ones named, complete at the same position.
  // The rebuilt checkpoint carries the record that it has caught up (`caughtUpOnce`), as the live
  // one has in the catch-ups above: readers go on reading this version, and older ones stay prunable.
  await documents.withTransaction(async (session) => {
    const checkpoint = await session.get(CHECKPOINTS_COLLECTION, rebuildCheckpointId);
    if (checkpoint !== undefined) await session.put(CHECKPOINTS_COLLECTION, { ...checkpoint, _id: liveCheckpoint });
    await session.delete(CHECKPOINTS_COLLECTION, rebuildCheckpointId);
  });
  // Readers search through the alias: moving it is the switch; the old index goes after.
  for (const [role, alias] of Object.entries(aliases)) await searchIndex!.setAlias(alias, rebuiltSearch[role]!);
  // Besides them, what an interrupted rebuild left that only became stale since: the live catch-up
  // above moves the alias off the index that rebuild swapped out without dropping it.
  for (const [role, liveIndex] of Object.entries(liveSearch)) {
    for (const index of await indexesOfVersion(searchIndex!, liveIndex)) {
      if (index !== rebuiltSearch[role] && !previousSearch.includes(index)) previousSearch.push(index);
    }
  }
  for (const index of previousSearch) await searchIndex!.dropIndex(index);

  return {
    projection: definition.name,
    position,
    checksums,
    identical: Object.values(checksums).every(({ live: a, rebuilt: b }) => a === b),
  };
};

/** Whether read models at positions `a` and `b` reflect the same events: none that `filter` lets through lies between. */
const reflectSameEvents = async (
  eventStore: EventStore,
  filter: EventFilter,
  a: GlobalPosition | undefined,
  b: GlobalPosition | undefined,
): Promise<boolean> => {
  if (a === b) return true;
  const [from, to] = b === undefined || (a !== undefined && a > b) ? [b, a!] : [a, b];
  // From `from` inclusive: the event there, if the read model reads it, both reflect.
  for await (const event of eventStore.readAll({ fromPosition: from ?? 'start', filter, maxCount: 2 })) {
    if (from === undefined || event.position > from) return event.position > to;
  }
  return true;
};

/** The indexes of this version of a role: the first one its projector built, and those rebuilds built. */
const indexesOfVersion = async (searchIndex: SearchIndex, liveIndex: string): Promise<string[]> =>
  (await searchIndex.listIndexes(liveIndex)).filter((index) => isSearchIndexOfVersion(liveIndex, index));

/** The live index's checksum, or why it has none: drift the rebuild is there to repair. */
const liveSearchChecksum = async (searchIndex: SearchIndex, index: string): Promise<string> => {
  try {
    return await searchIndex.checksum(index);
  } catch (error) {
    if (error instanceof SearchIndexDisagreementError) return error.message;
    throw error;
  }
};
