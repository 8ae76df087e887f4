export { bigintString } from './bigintJson.js';
export { createEventCatalog } from './catalog.js';
export type {
  AnyEventCatalog,
  CatalogEvent,
  CatalogEventOfType,
  CatalogEventType,
  EventCatalog,
} from './catalog.js';
export { SCHEMA_VERSION_KEY, createEnvelope, fromRecordedEvent, toEventToAppend, toTrustedEventToAppend } from './envelope.js';
export type { EventEnvelope, EventMetadata, EventOf } from './envelope.js';
export {
  EventDecodingError,
  EventDefinitionError,
  InvalidEventError,
  InvalidRecordedEventError,
  UnknownEventTypeError,
  UnsupportedEventVersionError,
} from './errors.js';
export type { EventIssue } from './errors.js';
export { defineEvent } from './eventDefinition.js';
export type {
  AnyEventDefinition,
  EventDataOf,
  EventDataSchema,
  EventDefinition,
  EventDefinitionSpec,
  UpcastContext,
  Upcaster,
} from './eventDefinition.js';
