import type { DocumentStore, EventStore, GlobalPosition } from '@folio/shared';
import { CHECKPOINTS_COLLECTION, liveCollections, type ProjectionDefinition } from '../runtime/projection.js';
import { createProjector } from '../runtime/projector.js';

export interface RebuildReport {
  projection: string;
  /** The log position both the live and the rebuilt read model reflected when compared. */
  position: GlobalPosition | undefined;
  /** Per collection role: the live and rebuilt checksums at that position. */
  checksums: Record<string, { live: string; rebuilt: string }>;
  /** True when every rebuilt collection equals the live one. */
  identical: boolean;
}

const REBUILD_SUFFIX = '__rebuild';

/**
 * Rebuilds a read model from position 0 beside the live one, brings both to the same log
 * position, compares their checksums (a difference is drift between the log and the read model),
 * then puts the rebuilt collections in the live ones' place, each by an atomic rename: readers see
 * the old or the new collection, never neither. The live projector of this read model must not
 * run elsewhere meanwhile; the rebuilt one's checkpoint becomes the live checkpoint.
 */
export const rebuildProjection = async (options: {
  eventStore: EventStore;
  documents: DocumentStore;
  definition: ProjectionDefinition;
}): Promise<RebuildReport> => {
  const { eventStore, documents, definition } = options;
  const live = liveCollections(definition);
  const rebuilt = Object.fromEntries(Object.entries(live).map(([role, name]) => [role, `${name}${REBUILD_SUFFIX}`]));
  const liveCheckpointId = `${definition.name}_v${definition.version}`;
  const rebuildCheckpointId = `${liveCheckpointId}${REBUILD_SUFFIX}`;

  // Leftovers of an interrupted rebuild are discarded: it starts again from position 0.
  const existing = new Set(await documents.listCollections());
  for (const name of Object.values(rebuilt)) if (existing.has(name)) await documents.dropCollection(name);
  await documents.withTransaction((session) => session.delete(CHECKPOINTS_COLLECTION, rebuildCheckpointId));

  const catchUp = async (collections: Record<string, string>, checkpointId: string) => {
    const projector = createProjector({ eventStore, documents, definition, collections, checkpointId });
    await projector.start();
    await projector.stop();
    return projector.status().position;
  };

  // Both catch up until they stop at the same position (the log may grow in between).
  let position = await catchUp(rebuilt, rebuildCheckpointId);
  for (;;) {
    const livePosition = await catchUp(live, liveCheckpointId);
    const rebuiltPosition = await catchUp(rebuilt, rebuildCheckpointId);
    position = rebuiltPosition;
    if (livePosition === rebuiltPosition) break;
  }

  const checksums: RebuildReport['checksums'] = {};
  for (const role of definition.roles) {
    checksums[role] = {
      live: await documents.checksum(live[role]!),
      rebuilt: await documents.checksum(rebuilt[role]!),
    };
  }

  for (const role of definition.roles) await documents.renameCollection(rebuilt[role]!, live[role]!);
  await documents.withTransaction(async (session) => {
    const checkpoint = await session.get(CHECKPOINTS_COLLECTION, rebuildCheckpointId);
    if (checkpoint !== undefined) await session.put(CHECKPOINTS_COLLECTION, { ...checkpoint, _id: liveCheckpointId });
    await session.delete(CHECKPOINTS_COLLECTION, rebuildCheckpointId);
  });

  return {
    projection: definition.name,
    position,
    checksums,
    identical: Object.values(checksums).every(({ live: a, rebuilt: b }) => a === b),
  };
};
