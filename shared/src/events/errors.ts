import { FolioError, ValidationError } from '../errors/folioError.js';

export interface EventIssue {
  /** Dotted path inside the event, starting with `data` or `metadata` (`data.amount`). */
  path: string;
  message: string;
}

const describeIssues = (issues: readonly EventIssue[]): string =>
  issues.length === 0 ? '' : `: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`;

/** An event definition or catalog is built wrong: a programming error, found at startup. */
export class EventDefinitionError extends FolioError {
  readonly type = 'invalid-event-definition';
  readonly status = 500;
}

/** An event about to be appended breaks its schema or the envelope rules; nothing was written. */
export class InvalidEventError extends ValidationError {
  constructor(
    readonly eventType: string,
    message: string,
    issues: readonly EventIssue[] = [],
  ) {
    super(`cannot append ${eventType}: ${message}${describeIssues(issues)}`, issues);
  }
}

/**
 * A recorded event could not be turned into a domain event. The log is the source of truth and
 * is never rewritten, so this is a server fault: the code does not understand its own history.
 */
export abstract class EventDecodingError extends FolioError {
  readonly status = 500;

  constructor(
    readonly eventId: string,
    readonly eventType: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  override problemExtensions(): Record<string, unknown> {
    return { eventId: this.eventId, eventType: this.eventType };
  }
}

/** No definition in the catalog has this type. */
export class UnknownEventTypeError extends EventDecodingError {
  readonly type = 'unknown-event-type';

  constructor(eventId: string, eventType: string) {
    super(eventId, eventType, `event ${eventId} has unknown type ${eventType}`);
  }
}

/** The event was written by a newer schema version than this code knows (a rollback, or a stale reader). */
export class UnsupportedEventVersionError extends EventDecodingError {
  readonly type = 'unsupported-event-version';

  constructor(
    eventId: string,
    eventType: string,
    readonly version: number,
    readonly latestKnownVersion: number,
  ) {
    super(
      eventId,
      eventType,
      `event ${eventId} is ${eventType} v${version}, newer than the latest known v${latestKnownVersion}`,
    );
  }

  override problemExtensions(): Record<string, unknown> {
    return { ...super.problemExtensions(), version: this.version, latestKnownVersion: this.latestKnownVersion };
  }
}

/** The event's data or metadata do not fit its schema, or an upcaster failed on them. */
export class InvalidRecordedEventError extends EventDecodingError {
  readonly type = 'invalid-recorded-event';

  constructor(
    eventId: string,
    eventType: string,
    readonly version: number | undefined,
    problem: string,
    readonly issues: readonly EventIssue[] = [],
    options?: ErrorOptions,
  ) {
    const typeAndVersion = version === undefined ? eventType : `${eventType} v${version}`;
    super(eventId, eventType, `event ${eventId} (${typeAndVersion}) ${problem}${describeIssues(issues)}`, options);
  }

  override problemExtensions(): Record<string, unknown> {
    return { ...super.problemExtensions(), version: this.version, errors: this.issues };
  }
}
