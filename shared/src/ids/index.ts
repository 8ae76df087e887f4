export {
  MAX_NODE_ID,
  MAX_SNOWFLAKE_ID,
  SNOWFLAKE_EPOCH_MS,
  compareSnowflakeIds,
  createSnowflakeGenerator,
  decomposeSnowflake,
  parseSnowflakeId,
  snowflakeIdSchema,
  snowflakeTimestamp,
} from './snowflake.js';
export type { SnowflakeGenerator, SnowflakeGeneratorOptions, SnowflakeParts } from './snowflake.js';
export { FOLIO_EVENT_ID_NAMESPACE, deterministicEventId, isEventId } from './eventIds.js';
export type { EventIdGenerator } from './eventIds.js';
