import { expect } from 'chai';
import {
  InvalidEventError,
  InvalidRecordedEventError,
  SCHEMA_VERSION_KEY,
  createEnvelope,
  fromRecordedEvent,
  toEventToAppend,
} from '../../src/events/index.js';
import { deterministicEventId } from '../../src/ids/index.js';
import { EVENT_ID, baseMetadata, recordedFrom, sampleCatalog, sampleClosed, sampleDeposited } from './sampleCatalog.js';

const closed = (metadata: Parameters<typeof createEnvelope>[1]['metadata'], id = EVENT_ID) =>
  createEnvelope(sampleClosed, { id, data: { reason: 'duplicate account' }, metadata });

describe('event envelope', () => {
  it('builds envelopes at the definition type and current version', () => {
    const envelope = createEnvelope(sampleDeposited, {
      id: EVENT_ID,
      data: { accountId: '1', amount: 5n, currency: 'JPY' },
      metadata: baseMetadata,
    });
    expect(envelope.type).to.equal('SampleDeposited');
    expect(envelope.version).to.equal(2);
  });

  it('maps version, actor, business time and correlation into the store metadata', () => {
    const appended = toEventToAppend(closed(baseMetadata), sampleClosed);
    expect(appended).to.deep.equal({
      id: EVENT_ID,
      type: 'SampleClosed',
      data: { reason: 'duplicate account' },
      metadata: {
        $correlationId: 'corr-1',
        $causationId: 'cmd-1',
        actor: 'user:alice',
        occurredAt: '2025-03-14T09:30:00.000Z',
        schemaVersion: 1,
      },
    });
    expect(SCHEMA_VERSION_KEY).to.equal('schemaVersion');
  });

  it('round-trips metadata, with extra keys and without a causation id', () => {
    const { $causationId: _omitted, ...withoutCausation } = baseMetadata;
    const envelope = closed({ ...withoutCausation, tenant: 'acme', tags: ['a', 1, null, { deep: true }] });
    const appended = toEventToAppend(envelope, sampleClosed);
    expect(appended.metadata).to.not.have.property('$causationId');
    expect(appended.metadata).to.include({ tenant: 'acme', schemaVersion: 1 });

    const decoded = fromRecordedEvent(recordedFrom(appended), sampleCatalog);
    expect(decoded).to.deep.equal(envelope);
    expect(decoded.metadata).to.not.have.property('$causationId');
    expect(decoded.metadata).to.not.have.property('schemaVersion');
  });

  it('accepts deterministic (uuid v5) event ids', () => {
    const id = deterministicEventId('close', '42');
    expect(toEventToAppend(closed(baseMetadata, id), sampleClosed).id).to.equal(id);
  });

  it('rejects an id that is not a UUID', () => {
    expect(() => toEventToAppend(closed(baseMetadata, 'evt-1'), sampleClosed)).to.throw(
      InvalidEventError,
      'cannot append SampleClosed: event id "evt-1" is not a UUID',
    );
  });

  it('rejects an envelope whose type or version differs from its definition', () => {
    const stale = { ...closed(baseMetadata), version: 0 };
    expect(() => toEventToAppend(stale, sampleClosed)).to.throw(
      InvalidEventError,
      /the envelope is SampleClosed v0 but its definition is SampleClosed v1/,
    );
  });

  it('rejects metadata missing its required keys or with a non-UTC business time', () => {
    const bad = closed({ ...baseMetadata, actor: '', occurredAt: '2025-03-14T10:30:00+01:00' });
    let caught: unknown;
    try {
      toEventToAppend(bad, sampleClosed);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(InvalidEventError);
    expect((caught as InvalidEventError).issues.map((issue) => issue.path)).to.deep.equal([
      'metadata.actor',
      'metadata.occurredAt',
    ]);
    expect((caught as Error).message).to.include('metadata.occurredAt: expected an ISO-8601 UTC timestamp');
  });

  it('rejects extra metadata keys the store or the envelope reserve, and values that are not JSON', () => {
    expect(() => toEventToAppend(closed({ ...baseMetadata, $tenant: 'acme' }), sampleClosed)).to.throw(
      InvalidEventError,
      /metadata\.\$tenant: keys starting with "\$" are reserved/,
    );
    expect(() => toEventToAppend(closed({ ...baseMetadata, schemaVersion: 7 }), sampleClosed)).to.throw(
      InvalidEventError,
      /metadata\.schemaVersion: is reserved/,
    );
    const notJson = { ...baseMetadata, score: Number.NaN };
    expect(() => toEventToAppend(closed(notJson), sampleClosed)).to.throw(InvalidEventError, /metadata\.score: NaN/);
  });

  it('carries the command id and the digest of what the command asked, and refuses a malformed digest on every path', () => {
    const digest = 'a'.repeat(64);
    const envelope = closed({ ...baseMetadata, commandId: 'close-42', commandDigest: digest });
    const appended = toEventToAppend(envelope, sampleClosed);
    expect(appended.metadata).to.include({ commandId: 'close-42', commandDigest: digest });
    expect(fromRecordedEvent(recordedFrom(appended), sampleCatalog)).to.deep.equal(envelope);
    expect(sampleCatalog.encodeTrusted(envelope)).to.deep.equal(appended);

    const malformed = closed({ ...baseMetadata, commandId: 'close-42', commandDigest: 'A'.repeat(64) });
    expect(() => toEventToAppend(malformed, sampleClosed)).to.throw(InvalidEventError, /metadata\.commandDigest: expected a lowercase hex SHA-256 digest/);
    expect(() => sampleCatalog.encodeTrusted(malformed)).to.throw(InvalidEventError, /commandDigest/);
    const stored = recordedFrom({ ...appended, metadata: { ...appended.metadata, commandDigest: 'not a digest' } });
    expect(() => fromRecordedEvent(stored, sampleCatalog)).to.throw(InvalidRecordedEventError, /metadata\.commandDigest/);
    expect(() => toEventToAppend(closed({ ...baseMetadata, commandId: '' }), sampleClosed)).to.throw(InvalidEventError, /metadata\.commandId/);
  });

  it('refuses recorded events without metadata or with broken metadata', () => {
    const appended = toEventToAppend(closed(baseMetadata), sampleClosed);
    const bare = { ...recordedFrom(appended), metadata: undefined };
    expect(() => fromRecordedEvent(bare, sampleCatalog)).to.throw(
      InvalidRecordedEventError,
      `event ${EVENT_ID} (SampleClosed) has no metadata`,
    );
    const broken = recordedFrom({ ...appended, metadata: { ...appended.metadata, schemaVersion: '1', actor: 3 } });
    expect(() => fromRecordedEvent(broken, sampleCatalog))
      .to.throw(
        InvalidRecordedEventError,
        /\(SampleClosed\) has invalid metadata: metadata\.actor: .*; metadata\.schemaVersion: /,
      )
      .with.property('issues')
      .that.has.length(2);
  });
});
