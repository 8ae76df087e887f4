import { createChecksum, type Document, type DocumentStore } from '@folio/shared';
import type { ProjectionDefinition } from './projection.js';

/** Documents read per round trip while a role's records are hashed. */
const PAGE = 500;

/**
 * The checksum a rebuild and its tests compare for one role of a read model: the store's own
 * checksum of the collection, or, for a role whose documents group records as batches fell
 * (`recordsOf`), the same SHA-256 over the records themselves in `_id` order, so that a live
 * read model and a rebuilt one holding the same records compare equal however they were grouped.
 */
export const readModelChecksum = async (
  documents: DocumentStore,
  definition: ProjectionDefinition,
  role: string,
  collection: string,
): Promise<string> => {
  const recordsOf = definition.recordsOf?.[role];
  if (recordsOf === undefined) return documents.checksum(collection);
  const checksum = createChecksum();
  let after: string | undefined;
  do {
    const page = await documents.find<Document>(collection, {
      orderBy: { field: '_id', direction: 'asc' },
      limit: PAGE,
      ...(after === undefined ? {} : { after }),
    });
    for (const document of page.items) for (const record of recordsOf(document)) checksum.add(record);
    after = page.nextCursor;
  } while (after !== undefined);
  return checksum.digest();
};
