import { expect } from 'chai';
import fc from 'fast-check';
import { ValidationError } from '../../src/errors/folioError.js';
import {
  MAX_SNOWFLAKE_ID,
  SNOWFLAKE_EPOCH_MS,
  compareSnowflakeIds,
  createSnowflakeGenerator,
  decomposeSnowflake,
  parseSnowflakeId,
  snowflakeIdSchema,
  snowflakeTimestamp,
} from '../../src/ids/index.js';

/** A clock that returns the given readings in turn, then repeats the last one. */
const scriptedClock = (readings: readonly number[]): (() => number) => {
  let index = 0;
  return () => {
    const reading = readings[Math.min(index, readings.length - 1)];
    index += 1;
    if (reading === undefined) throw new Error('no readings');
    return reading;
  };
};

const T0 = Date.UTC(2025, 2, 14, 9, 30);

const isStrictlyIncreasing = (ids: readonly bigint[]): boolean => ids.every((id, i) => i === 0 || ids[i - 1]! < id);

describe('snowflake ids', () => {
  it('uses 2024-01-01T00:00:00Z as its epoch', () => {
    expect(new Date(SNOWFLAKE_EPOCH_MS).toISOString()).to.equal('2024-01-01T00:00:00.000Z');
  });

  it('lays out 41 bits of time since the epoch, 10 bits of node id and 12 bits of sequence', () => {
    const generator = createSnowflakeGenerator({ nodeId: 5, clock: () => SNOWFLAKE_EPOCH_MS + 1000 });
    expect(generator.next()).to.equal((1000n << 22n) | (5n << 12n));
    expect(generator.next()).to.equal((1000n << 22n) | (5n << 12n) | 1n);
    expect(decomposeSnowflake(generator.nextId())).to.deep.equal({
      timestamp: SNOWFLAKE_EPOCH_MS + 1000,
      nodeId: 5,
      sequence: 2,
    });
  });

  it('gives back the generation time', () => {
    const generator = createSnowflakeGenerator({ nodeId: 1023, clock: () => T0 });
    expect(snowflakeTimestamp(generator.next())).to.equal(T0);
    expect(snowflakeTimestamp(generator.nextId())).to.equal(T0);
  });

  it('restarts the sequence when the clock moves on', () => {
    const generator = createSnowflakeGenerator({ nodeId: 0, clock: scriptedClock([T0, T0, T0 + 1]) });
    const sequences = [generator.next(), generator.next(), generator.next()].map((id) => decomposeSnowflake(id));
    expect(sequences.map((parts) => [parts.timestamp, parts.sequence])).to.deep.equal([
      [T0, 0],
      [T0, 1],
      [T0 + 1, 0],
    ]);
  });

  it('stays monotonic when the clock goes backwards, keeping the last timestamp', () => {
    const generator = createSnowflakeGenerator({
      nodeId: 3,
      clock: scriptedClock([T0, T0 - 5000, T0 - 1, T0, T0 + 2]),
    });
    const ids = Array.from({ length: 5 }, () => generator.next());
    expect(isStrictlyIncreasing(ids)).to.equal(true);
    expect(ids.map((id) => decomposeSnowflake(id).timestamp)).to.deep.equal([T0, T0, T0, T0, T0 + 2]);
    expect(ids.map((id) => decomposeSnowflake(id).sequence)).to.deep.equal([0, 1, 2, 3, 0]);
  });

  it('borrows the next millisecond when the sequence overflows, without waiting for the clock', () => {
    let readings = 0;
    const generator = createSnowflakeGenerator({
      nodeId: 9,
      clock: () => {
        readings += 1;
        return T0;
      },
    });
    const ids = Array.from({ length: 4096 * 2 + 1 }, () => generator.next());
    expect(readings).to.equal(ids.length);
    expect(isStrictlyIncreasing(ids)).to.equal(true);
    expect(decomposeSnowflake(ids[4095]!)).to.deep.equal({ timestamp: T0, nodeId: 9, sequence: 4095 });
    expect(decomposeSnowflake(ids[4096]!)).to.deep.equal({ timestamp: T0 + 1, nodeId: 9, sequence: 0 });
    expect(decomposeSnowflake(ids[8192]!)).to.deep.equal({ timestamp: T0 + 2, nodeId: 9, sequence: 0 });
  });

  it('keeps the borrowed time until the clock catches up', () => {
    const readings = [...Array.from({ length: 4097 }, () => T0), T0 + 1, T0 + 5];
    const generator = createSnowflakeGenerator({ nodeId: 0, clock: scriptedClock(readings) });
    const ids = readings.map(() => generator.next());
    const last = ids.slice(-3).map((id) => decomposeSnowflake(id));
    expect(last.map((parts) => [parts.timestamp - T0, parts.sequence])).to.deep.equal([
      [1, 0],
      [1, 1],
      [5, 0],
    ]);
  });

  it('sorts the same as numbers, as wire strings and as generation order', () => {
    // Crosses the 18 → 19 digit boundary (July 2031), where a plain string sort would go wrong.
    const boundary = Date.UTC(2031, 6, 22, 11, 22, 59);
    const readings = [T0, T0 + 1, boundary, boundary + 200, boundary + 200, boundary + 10_000];
    const generator = createSnowflakeGenerator({ nodeId: 7, clock: scriptedClock(readings) });
    const wire = readings.map(() => generator.nextId());
    expect(new Set(wire.map((id) => id.length))).to.deep.equal(new Set([18, 19]));

    const shuffled = [...wire].reverse();
    expect([...shuffled].sort(compareSnowflakeIds)).to.deep.equal(wire);
    const numeric = shuffled.map((id) => BigInt(id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(numeric.map(String)).to.deep.equal(wire);
  });

  it('gives distinct, ordered ids to different nodes in the same millisecond', () => {
    const a = createSnowflakeGenerator({ nodeId: 1, clock: () => T0 });
    const b = createSnowflakeGenerator({ nodeId: 2, clock: () => T0 });
    const fromA = a.next();
    const fromB = b.next();
    expect(fromA).to.not.equal(fromB);
    expect(decomposeSnowflake(fromB).nodeId).to.equal(2);
  });

  it('accepts node ids 0 to 1023 only', () => {
    for (const nodeId of [0, 1023]) {
      expect(createSnowflakeGenerator({ nodeId, clock: () => T0 }).nodeId).to.equal(nodeId);
    }
    for (const nodeId of [-1, 1024, 1.5, Number.NaN]) {
      expect(() => createSnowflakeGenerator({ nodeId, clock: () => T0 }), String(nodeId)).to.throw(
        RangeError,
        /node id must be an integer from 0 to 1023/,
      );
    }
  });

  it('refuses a first clock reading before the epoch, or one that is not a number', () => {
    const early = createSnowflakeGenerator({ nodeId: 0, clock: () => SNOWFLAKE_EPOCH_MS - 1 });
    expect(() => early.next()).to.throw(RangeError, /before the project epoch/);
    const broken = createSnowflakeGenerator({ nodeId: 0, clock: () => Number.NaN });
    expect(() => broken.next()).to.throw(RangeError, /NaN/);
  });

  it('is strictly increasing for any sequence of clock readings, backwards jumps included', () => {
    const reading = fc.integer({ min: SNOWFLAKE_EPOCH_MS, max: SNOWFLAKE_EPOCH_MS + 10 * 365 * 86_400_000 });
    const steps = fc.array(
      fc.oneof(
        fc.record({ repeat: fc.integer({ min: 1, max: 5000 }), at: reading }),
        fc.record({ repeat: fc.constant(1), at: reading }),
      ),
      { minLength: 1, maxLength: 30 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1023 }), steps, (nodeId, plan) => {
        const readings = plan.flatMap(({ repeat, at }) => Array.from({ length: repeat }, () => at));
        const generator = createSnowflakeGenerator({ nodeId, clock: scriptedClock(readings) });
        let previous = -1n;
        for (let i = 0; i < readings.length; i += 1) {
          const id = generator.next();
          if (id <= previous || decomposeSnowflake(id).nodeId !== nodeId) return false;
          previous = id;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });
});

describe('snowflake wire form', () => {
  it('parses canonical decimal strings', () => {
    expect(parseSnowflakeId('0')).to.equal(0n);
    expect(parseSnowflakeId('123456789012345678')).to.equal(123456789012345678n);
    expect(parseSnowflakeId(MAX_SNOWFLAKE_ID.toString())).to.equal(2n ** 63n - 1n);
  });

  it('rejects anything else with a clear validation error', () => {
    const tooLarge = [(2n ** 63n).toString(), '9'.repeat(40)];
    const bad = ['', '01', '+1', '-1', ' 1', '1 ', '1.0', '1e3', '0x10', '１２', '12a', ...tooLarge];
    for (const text of bad) {
      expect(() => parseSnowflakeId(text), JSON.stringify(text))
        .to.throw(ValidationError)
        .with.property('message')
        .that.includes(`invalid snowflake id ${JSON.stringify(text)}`);
    }
    expect(() => parseSnowflakeId('9223372036854775808')).to.throw(/must not exceed 9223372036854775807/);
    expect(() => parseSnowflakeId('007')).to.throw(/leading zeros/);
  });

  it('round-trips generated ids through the wire form', () => {
    const generator = createSnowflakeGenerator({ nodeId: 42, clock: () => T0 });
    for (let i = 0; i < 10; i += 1) {
      const id = generator.next();
      expect(parseSnowflakeId(id.toString())).to.equal(id);
    }
  });

  it('validates the wire form with zod, keeping it a string', () => {
    expect(snowflakeIdSchema.parse('123')).to.equal('123');
    for (const input of ['0123', '-5', '12.5', 12, (2n ** 63n).toString()]) {
      const result = snowflakeIdSchema.safeParse(input);
      expect(result.success, String(input)).to.equal(false);
    }
    const issue = snowflakeIdSchema.safeParse('0123').error?.issues[0];
    expect(issue?.message).to.match(/invalid snowflake id: .*leading zeros/);
  });

  it('rejects out-of-range bigints when reading their timestamp', () => {
    expect(() => snowflakeTimestamp(-1n)).to.throw(ValidationError);
    expect(() => snowflakeTimestamp(2n ** 63n)).to.throw(ValidationError);
  });
});

describe('snowflake reservations', () => {
  it('reserves consecutive ids of one node that later ids never reuse, borrowing a millisecond when needed', () => {
    let now = Date.UTC(2026, 0, 1);
    const generator = createSnowflakeGenerator({ nodeId: 7, clock: () => now });
    for (let i = 0; i < 4000; i++) generator.next();
    const first = generator.reserve(1000);
    const parts = decomposeSnowflake(first + 999n);
    expect(parts.nodeId).to.equal(7);
    expect(parts.sequence).to.equal(999);
    expect(decomposeSnowflake(first).timestamp).to.equal(now + 1);
    expect(generator.next() > first + 999n).to.equal(true);
    now += 5;
    expect(() => generator.reserve(0)).to.throw(RangeError);
    expect(() => generator.reserve(4097)).to.throw(RangeError);
  });
});
