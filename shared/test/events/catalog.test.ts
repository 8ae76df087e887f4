import { expect } from 'chai';
import { z } from 'zod';
import { FolioError, ValidationError } from '../../src/errors/folioError.js';
import {
  type CatalogEvent,
  type CatalogEventOfType,
  type CatalogEventType,
  EventDecodingError,
  EventDefinitionError,
  InvalidEventError,
  InvalidRecordedEventError,
  UnknownEventTypeError,
  UnsupportedEventVersionError,
  type Upcaster,
  createEnvelope,
  bigintString,
  createEventCatalog,
  defineEvent,
} from '../../src/events/index.js';
import {
  EVENT_ID,
  OTHER_EVENT_ID,
  baseMetadata,
  recordedFrom,
  sampleCatalog,
  sampleClosed,
  sampleDeposited,
} from './sampleCatalog.js';

type SampleEvent = CatalogEvent<typeof sampleCatalog>;

const deposited = createEnvelope(sampleDeposited, {
  id: EVENT_ID,
  data: { accountId: '123456789012345678', amount: 2n ** 70n + 1n, currency: 'EUR' },
  metadata: baseMetadata,
});

const storedV1 = (data: Record<string, unknown>, id = EVENT_ID) =>
  recordedFrom({
    id,
    type: 'SampleDeposited',
    data: data as never,
    metadata: { ...baseMetadata, schemaVersion: 1 },
  });

/** Compiles only if `switch (event.type)` narrows `event.data` and covers every type. */
const describeEvent = (event: SampleEvent): string => {
  switch (event.type) {
    case 'SampleDeposited': {
      const amount: bigint = event.data.amount;
      // @ts-expect-error the amount is a bigint, not its stored string
      const stored: string = event.data.amount;
      // @ts-expect-error only SampleClosed has a reason
      const reason: unknown = event.data.reason;
      return `+${amount} ${event.data.currency}${stored === reason ? '?' : ''}`;
    }
    case 'SampleClosed':
      return `closed: ${event.data.reason}`;
  }
};

describe('event definitions', () => {
  it('needs a positive integer version and a non-system type', () => {
    const schema = z.object({});
    expect(() => defineEvent({ type: 'X', version: 0, schema })).to.throw(EventDefinitionError, /positive integer/);
    expect(() => defineEvent({ type: 'X', version: 1.5, schema })).to.throw(EventDefinitionError, /positive integer/);
    expect(() => defineEvent({ type: '', version: 1, schema })).to.throw(EventDefinitionError, /non-empty/);
    expect(() => defineEvent({ type: '$metadata', version: 1, schema })).to.throw(EventDefinitionError, /"\$"/);
  });

  it('needs exactly one upcaster per older version', () => {
    const schema = z.object({});
    const lift: Upcaster = (data) => data;
    expect(() => defineEvent({ type: 'X', version: 3, schema, upcasters: { 1: lift } })).to.throw(
      EventDefinitionError,
      /needs upcasters from exactly versions \[1, 2\], got \[1\]/,
    );
    expect(() => defineEvent({ type: 'X', version: 1, schema, upcasters: { 1: lift } })).to.throw(
      EventDefinitionError,
      /got \[1\]/,
    );
    expect(defineEvent({ type: 'X', version: 3, schema, upcasters: { 2: lift, 1: lift } }).version).to.equal(3);
  });
});

describe('event catalog', () => {
  it('lists its types and finds definitions by type', () => {
    expect(sampleCatalog.types).to.deep.equal(['SampleDeposited', 'SampleClosed']);
    expect(sampleCatalog.definitionOf('SampleClosed')).to.equal(sampleClosed);
    expect(sampleCatalog.definitionOf('Nope')).to.equal(undefined);
    const types: CatalogEventType<typeof sampleCatalog>[] = ['SampleDeposited', 'SampleClosed'];
    expect(types).to.have.length(2);
  });

  it('refuses two definitions of the same type', () => {
    const again = defineEvent({ type: 'SampleClosed', version: 1, schema: z.object({}) });
    expect(() => createEventCatalog([sampleClosed, again])).to.throw(
      EventDefinitionError,
      /SampleClosed is defined twice/,
    );
  });

  it('round-trips an event through the JSON the store keeps, bigints preserved', () => {
    const appended = sampleCatalog.encode(deposited);
    expect(appended.data).to.deep.equal({
      accountId: '123456789012345678',
      amount: '1180591620717411303425',
      currency: 'EUR',
    });
    const decoded = sampleCatalog.decode(recordedFrom(appended));
    expect(decoded).to.deep.equal(deposited);
    expect(describeEvent(decoded)).to.equal('+1180591620717411303425 EUR');
  });

  it('decodes into a union that narrows on the event type', () => {
    const closed = createEnvelope(sampleClosed, {
      id: OTHER_EVENT_ID,
      data: { reason: 'customer left' },
      metadata: baseMetadata,
    });
    const events = [deposited, closed].map((event) => sampleCatalog.decode(recordedFrom(sampleCatalog.encode(event))));
    expect(events.map(describeEvent)).to.deep.equal(['+1180591620717411303425 EUR', 'closed: customer left']);
    const only: CatalogEventOfType<typeof sampleCatalog, 'SampleClosed'>[] = events.filter(
      (event): event is CatalogEventOfType<typeof sampleCatalog, 'SampleClosed'> => event.type === 'SampleClosed',
    );
    expect(only.map((event) => event.data.reason)).to.deep.equal(['customer left']);
  });

  it('loads v1 events as v2 through the upcaster', () => {
    const decoded = sampleCatalog.decode(storedV1({ accountId: '42', amount: 1050 }));
    expect(decoded).to.deep.equal({
      id: EVENT_ID,
      type: 'SampleDeposited',
      version: 2,
      data: { accountId: '42', amount: 1050n, currency: 'USD' },
      metadata: baseMetadata,
    });
  });

  it('does not let an upcaster touch the recorded event', () => {
    const recorded = storedV1({ accountId: '42', amount: 7 });
    const mutating = defineEvent({
      type: 'SampleDeposited',
      version: 2,
      schema: sampleDeposited.schema,
      upcasters: {
        1: (data) => {
          data['amount'] = String(data['amount']);
          data['currency'] = 'USD';
          return data;
        },
      },
    });
    expect(createEventCatalog([mutating]).decode(recorded).data.amount).to.equal(7n);
    expect(recorded.data).to.deep.equal({ accountId: '42', amount: 7 });
  });

  it('reports an upcaster failure with the event, its stored version and the cause', () => {
    const attempt = () => sampleCatalog.decode(storedV1({ accountId: '42', amount: 10.5 }));
    expect(attempt).to.throw(InvalidRecordedEventError);
    try {
      attempt();
    } catch (error) {
      const failure = error as InvalidRecordedEventError;
      expect(failure.message).to.equal(
        `event ${EVENT_ID} (SampleDeposited v1) could not be upcast from v1 to v2: ` +
          'v1 amount 10.5 is not a whole number of minor units',
      );
      expect(failure.cause).to.be.instanceOf(Error);
      expect(failure.status).to.equal(500);
    }
  });

  it('rejects an unknown event type', () => {
    const recorded = recordedFrom({
      id: EVENT_ID,
      type: 'SampleVanished',
      data: {},
      metadata: { ...baseMetadata, schemaVersion: 1 },
    });
    expect(() => sampleCatalog.decode(recorded))
      .to.throw(UnknownEventTypeError, `event ${EVENT_ID} has unknown type SampleVanished`)
      .that.satisfies(
        (error: UnknownEventTypeError) => error.eventType === 'SampleVanished' && error.eventId === EVENT_ID,
      );
  });

  it('rejects a version newer than the catalog knows', () => {
    const recorded = recordedFrom({
      id: EVENT_ID,
      type: 'SampleDeposited',
      data: { accountId: '42', amount: '5', currency: 'USD' },
      metadata: { ...baseMetadata, schemaVersion: 3 },
    });
    expect(() => sampleCatalog.decode(recorded)).to.throw(
      UnsupportedEventVersionError,
      `event ${EVENT_ID} is SampleDeposited v3, newer than the latest known v2`,
    );
  });

  it('rejects invalid data, naming the event id, type and the path of each issue', () => {
    const recorded = recordedFrom({
      id: EVENT_ID,
      type: 'SampleDeposited',
      data: { accountId: '0042', amount: '01', currency: 'USD' },
      metadata: { ...baseMetadata, schemaVersion: 2 },
    });
    let caught: unknown;
    try {
      sampleCatalog.decode(recorded);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(InvalidRecordedEventError);
    expect(caught).to.be.instanceOf(EventDecodingError);
    expect(caught).to.be.instanceOf(FolioError);
    const failure = caught as InvalidRecordedEventError;
    expect(failure.message).to.match(new RegExp(`^event ${EVENT_ID} \\(SampleDeposited v2\\) has invalid data: `));
    expect(failure.message).to.include('data.accountId: invalid snowflake id');
    expect(failure.issues.map((issue) => issue.path)).to.deep.equal(['data.accountId', 'data.amount']);
    expect(failure.problemExtensions()).to.include({ eventId: EVENT_ID, eventType: 'SampleDeposited', version: 2 });
  });

  it('validates upcast data against the current schema', () => {
    expect(() => sampleCatalog.decode(storedV1({ amount: 5 }))).to.throw(
      InvalidRecordedEventError,
      /\(SampleDeposited v1\) has invalid data after upcasting to v2: data\.accountId: /,
    );
    expect(() => sampleCatalog.decode(storedV1({ accountId: '42', amount: -5 }))).to.throw(
      InvalidRecordedEventError,
      /data\.amount: must be positive/,
    );
  });

  it('refuses to encode data that breaks the schema, as a validation error', () => {
    const bad = createEnvelope(sampleDeposited, {
      id: EVENT_ID,
      data: { accountId: '42', amount: 0n, currency: 'usd' },
      metadata: baseMetadata,
    });
    let caught: unknown;
    try {
      sampleCatalog.encode(bad);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(InvalidEventError);
    expect(caught).to.be.instanceOf(ValidationError);
    const failure = caught as InvalidEventError;
    expect(failure.status).to.equal(400);
    expect(failure.message).to.match(
      /^cannot append SampleDeposited: data does not match its schema: data\.amount: must be positive/,
    );
    expect(failure.issues.map((issue) => issue.path)).to.deep.equal(['data.amount', 'data.currency']);
  });

  it('refuses to encode a number where the schema wants a bigint', () => {
    const bad = { ...deposited, data: { ...deposited.data, amount: 10 as unknown as bigint } };
    expect(() => sampleCatalog.encode(bad)).to.throw(InvalidEventError, /data\.amount: .*expected bigint/);
  });

  it('refuses to encode a type it does not know', () => {
    const stray = { ...deposited, type: 'SampleVanished' } as unknown as SampleEvent;
    expect(() => sampleCatalog.encode(stray)).to.throw(
      InvalidEventError,
      /SampleVanished: the type is not in the event catalog/,
    );
  });

  it('refuses data its schema would let through but JSON cannot hold', () => {
    const loose = defineEvent({ type: 'Loose', version: 1, schema: z.object({ at: z.date() }) });
    const event = createEnvelope(loose, { id: EVENT_ID, data: { at: new Date(0) }, metadata: baseMetadata });
    expect(() => createEventCatalog([loose]).encode(event)).to.throw(InvalidEventError, /data\.at: a Date is not JSON/);
  });

  it('drops undefined optional members, as the store would', () => {
    const closed = createEnvelope(sampleClosed, {
      id: EVENT_ID,
      data: { reason: 'fraud', closedBy: undefined },
      metadata: baseMetadata,
    });
    const appended = sampleCatalog.encode(closed);
    expect(appended.data).to.deep.equal({ reason: 'fraud' });
    expect(Object.keys(appended.data)).to.deep.equal(['reason']);
  });

  describe('the trusted path, for events built by the code itself', () => {
    it('stores exactly what the schema encoding stores', () => {
      const closed = createEnvelope(sampleClosed, {
        id: EVENT_ID,
        data: { reason: 'fraud', closedBy: 'user:bob' },
        metadata: { ...baseMetadata, commandId: 'close-1', attempt: 2 },
      });
      for (const event of [deposited, closed] as SampleEvent[]) {
        expect(sampleCatalog.encodeTrusted(event)).to.deep.equal(sampleCatalog.encode(event));
      }
    });

    it('turns nested bigints into decimal strings and leaves the event untouched', () => {
      const nested = defineEvent({
        type: 'Nested',
        version: 1,
        schema: z.object({ legs: z.array(z.object({ amount: bigintString, note: z.string().optional() })) }),
      });
      const data = { legs: [{ amount: 5n, note: 'a' }, { amount: -(2n ** 64n), note: undefined }] };
      const event = createEnvelope(nested, { id: EVENT_ID, data, metadata: baseMetadata });
      const catalog = createEventCatalog([nested]);
      const appended = catalog.encodeTrusted(event);
      expect(appended.data).to.deep.equal({ legs: [{ amount: '5', note: 'a' }, { amount: '-18446744073709551616' }] });
      expect(Object.keys((appended.data.legs as object[])[1]!)).to.deep.equal(['amount']);
      expect(appended).to.deep.equal(catalog.encode(event));
      expect(data.legs[0]!.amount).to.equal(5n);
    });

    it('still refuses what JSON cannot hold, with its path', () => {
      const loose = defineEvent({ type: 'Loose', version: 1, schema: z.object({ at: z.array(z.date()) }) });
      const event = createEnvelope(loose, { id: EVENT_ID, data: { at: [new Date(0)] }, metadata: baseMetadata });
      expect(() => createEventCatalog([loose]).encodeTrusted(event)).to.throw(InvalidEventError, /data\.at\.0: a Date is not JSON/);
      const notFinite = { ...deposited, data: { ...deposited.data, currency: Number.NaN as unknown as string } };
      expect(() => sampleCatalog.encodeTrusted(notFinite)).to.throw(InvalidEventError, /data\.currency: NaN is not a JSON number/);
    });

    it('still refuses missing metadata, reserved metadata keys and an unknown type', () => {
      const noActor = { ...deposited, metadata: { ...baseMetadata, actor: '' } };
      expect(() => sampleCatalog.encodeTrusted(noActor)).to.throw(InvalidEventError, /metadata is invalid/);
      const reserved = { ...deposited, metadata: { ...baseMetadata, $custom: 'x' } };
      expect(() => sampleCatalog.encodeTrusted(reserved)).to.throw(InvalidEventError, /metadata\.\$custom/);
      const stray = { ...deposited, type: 'SampleVanished' } as unknown as SampleEvent;
      expect(() => sampleCatalog.encodeTrusted(stray)).to.throw(InvalidEventError, /not in the event catalog/);
    });
  });
});
