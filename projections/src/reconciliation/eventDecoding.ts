import { SCHEMA_VERSION_KEY, type AnyEventCatalog, type CatalogEvent, type RecordedEvent } from '@folio/shared';

/** The part of a decoded event the projection reads. */
export type TypeAndData<E> = E extends { type: infer T; data: infer D } ? { type: T; data: D } : never;

/**
 * Decodes the type and data of a recorded event: the data is validated with the catalog's schema
 * as `catalog.decode` would, but the metadata, which reconciliation never reads, is not (checking
 * its timestamps costs as much as the data). An event at an older version, or one that does not
 * pass, takes the catalog's full path, which upcasts it or says what is wrong with it.
 */
export const decodeTypeAndData = <C extends AnyEventCatalog>(catalog: C, recorded: RecordedEvent): TypeAndData<CatalogEvent<C>> => {
  const definition = catalog.definitionOf(recorded.type);
  if (definition !== undefined && recorded.metadata?.[SCHEMA_VERSION_KEY] === definition.version) {
    const parsed = definition.schema.safeParse(recorded.data);
    if (parsed.success) return { type: definition.type, data: parsed.data } as TypeAndData<CatalogEvent<C>>;
  }
  return catalog.decode(recorded) as unknown as TypeAndData<CatalogEvent<C>>;
};
