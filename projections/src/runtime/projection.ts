import type { Document, DocumentSession, EventFilter, JsonObject, RecordedEvent, SearchIndex, SearchSchema } from '@folio/shared';

/** Writes a read model: the part of a projection that knows its collections. */
export interface ProjectionHandler {
  /**
   * Applies events, strictly in log order, inside the transaction that also stores the
   * checkpoints (and the other read models' changes of the batch). Must be idempotent: every
   * document remembers the position of the last event applied to it and ignores events at or
   * before it, so a batch replayed after a crash leaves the same result. The recorded events are
   * shared with the other read models the projector keeps: read them, never change them
   * (`ledgerEventOf` decodes and validates each once for all of them).
   */
  handle(events: readonly RecordedEvent[], session: DocumentSession): Promise<HandledBatch | void>;
}

/**
 * What a handler leaves running outside the document store when it returns (a search index
 * write on a thread of its own): the projector lets it run beside the other read models'
 * handlers, and never commits a checkpoint past the batch before it has landed. While behind the
 * log, the batch's documents may commit first and the write land while the next batch is
 * handled; so when a replayed batch finds its documents applied already, the handler must leave
 * that work running again.
 */
export interface HandledBatch {
  outside: Promise<void>;
}

/** Where a projection writes: its collections and search indexes by role. */
export interface ProjectionTarget {
  collections: Readonly<Record<string, string>>;
  searchIndexes: Readonly<Record<string, string>>;
  /** Present when the projection has search roles. */
  search?: SearchIndex;
}

/**
 * A read model built from the log. Its collections are named `<name>_<role>_v<version>` and its
 * search indexes `<name>-<role>-v<version>` behind the alias `<name>-<role>`; a rebuild writes
 * the same roles under other names and then takes the live ones' place.
 */
export interface ProjectionDefinition {
  name: string;
  /** Bumped when the read model's shape changes. */
  version: number;
  /** The events it reads; the subscription skips everything else. */
  filter: EventFilter;
  roles: readonly string[];
  /** Indexes per role that the query side needs, created before the first batch. */
  indexes?: Readonly<Record<string, readonly (readonly string[])[]>>;
  /** Search indexes it keeps, by role, with their schemas. */
  searchRoles?: Readonly<Record<string, SearchSchema>>;
  /**
   * For a role whose documents group records as batches fell (an account's balance points of one
   * batch), the records a document holds, in order: read models are compared by these
   * (`readModelChecksum`), since a rebuild or a restart cuts its batches elsewhere.
   */
  recordsOf?: Readonly<Record<string, (document: Document) => readonly JsonObject[]>>;
  /**
   * Work on one event that needs nothing but the event (decoding it into a cache the handler
   * reads), done while the event is read ahead of its batch. Best effort: a failure is left for
   * `handle` to meet when it reads the event.
   */
  prepare?(event: RecordedEvent): void;
  create(target: ProjectionTarget): ProjectionHandler;
}

export const liveCollections = (definition: ProjectionDefinition): Record<string, string> =>
  Object.fromEntries(definition.roles.map((role) => [role, `${definition.name}_${role}_v${definition.version}`]));

/** The alias readers search through, per search role. */
export const searchAliases = (definition: ProjectionDefinition): Record<string, string> =>
  Object.fromEntries(Object.keys(definition.searchRoles ?? {}).map((role) => [role, `${definition.name}-${role}`]));

export const liveSearchIndexes = (definition: ProjectionDefinition): Record<string, string> =>
  Object.fromEntries(Object.entries(searchAliases(definition)).map(([role, alias]) => [role, `${alias}-v${definition.version}`]));

/** Where the live projector of this version keeps its checkpoint. */
export const liveCheckpointId = (definition: ProjectionDefinition): string => `${definition.name}_v${definition.version}`;

/** What a rebuild appends to the names of the collections and the checkpoint it builds beside the live ones. */
export const REBUILD_SUFFIX = '__rebuild';

/** The index a rebuild of a version builds beside that version's live index (indexes cannot be renamed). */
export const rebuiltSearchIndex = (liveIndex: string, rebuildId: string): string => `${liveIndex}-rebuild-${rebuildId}`;

/**
 * Whether `index` holds documents as this version of the read model writes them: the index the
 * version first built, or one a rebuild of it built. An older version's index behind the alias
 * is not: its documents carry the same log positions as versions, so writes of the new version
 * would be skipped as already applied.
 */
export const isSearchIndexOfVersion = (liveIndex: string, index: string): boolean =>
  index === liveIndex || index.startsWith(rebuiltSearchIndex(liveIndex, ''));

/** Where projectors keep their checkpoints (one document per projector). */
export const CHECKPOINTS_COLLECTION = 'projection_checkpoints';

/**
 * The search indexes a stored checkpoint names (its `searchIndexes`: by role, the indexes its read
 * model writes); `undefined` for a checkpoint stored before checkpoints named them, and for a read
 * model without search.
 */
export const searchIndexesOfCheckpoint = (checkpoint: Readonly<Record<string, unknown>> | undefined): Record<string, string> | undefined => {
  const named = checkpoint?.searchIndexes;
  return typeof named === 'object' && named !== null && !Array.isArray(named) && Object.values(named).every((index) => typeof index === 'string')
    ? (named as Record<string, string>)
    : undefined;
};
