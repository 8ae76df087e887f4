import { expect } from 'chai';
import { readAhead } from '../src/runtime/readAhead.js';

/** A source the test feeds by hand: each `next()` waits until a value or failure is given. */
const manualSource = <T>() => {
  const given: (IteratorResult<T> | { failure: Error })[] = [];
  const waiting: (() => void)[] = [];
  let reads = 0;
  let underWay = 0;
  let mostAtOnce = 0;
  const source: AsyncIterator<T> = {
    async next() {
      reads += 1;
      underWay += 1;
      mostAtOnce = Math.max(mostAtOnce, underWay);
      while (given.length === 0) await new Promise<void>((resolve) => waiting.push(resolve));
      underWay -= 1;
      const item = given.shift()!;
      if ('failure' in item) throw item.failure;
      return item;
    },
  };
  const wake = () => waiting.splice(0).forEach((resolve) => resolve());
  return {
    source,
    reads: () => reads,
    /** Iterators in general need not answer overlapping reads in order, so none may overlap. */
    mostAtOnce: () => mostAtOnce,
    give(...values: T[]) {
      given.push(...values.map((value) => ({ value, done: false as const })));
      wake();
    },
    end() {
      given.push({ value: undefined, done: true });
      wake();
    },
    fail(failure: Error) {
      given.push({ failure });
      wake();
    },
  };
};

const counting = (limit: number): AsyncIterator<number> => {
  let n = 0;
  return {
    next: async () => (n < limit ? { value: n++, done: false } : { value: undefined, done: true }),
  };
};

const drain = async <T>(next: () => Promise<IteratorResult<T>>): Promise<T[]> => {
  const values: T[] = [];
  for (let result = await next(); !result.done; result = await next()) values.push(result.value);
  return values;
};

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('reading a subscription ahead of its consumer', () => {
  it('hands out every value in the source order, whether read ahead or on demand', async () => {
    const reader = readAhead(counting(1_000), 300);
    const first = [(await reader.next()).value, (await reader.next()).value];
    await reader.readWhile(new Promise(() => undefined));
    expect([...first, ...(await drain(() => reader.next()))]).to.deep.equal([...Array(1_000).keys()]);
  });

  it('reads ahead no further than its capacity', async () => {
    const fed = manualSource<number>();
    fed.give(...Array.from({ length: 50 }, (_, n) => n));
    const reader = readAhead(fed.source, 10);
    await reader.readWhile(new Promise(() => undefined));
    expect(fed.reads()).to.equal(10);
    expect((await reader.next()).value).to.equal(0);
  });

  it('counts runs of values by their size against its capacity, and frees what is taken', async () => {
    const fed = manualSource<number[]>();
    fed.give(...Array.from({ length: 20 }, () => [1, 2, 3]));
    const reader = readAhead(fed.source, 10, { sizeOf: (run) => run.length });
    await reader.readWhile(new Promise(() => undefined));
    // 3 + 3 + 3 is under 10; the fourth run reaches it.
    expect(fed.reads()).to.equal(4);
    await reader.next();
    await reader.next();
    await reader.readWhile(new Promise(() => undefined));
    expect(fed.reads()).to.equal(6);
  });

  it('stops reading once the wait is over, even while the source has nothing to give', async () => {
    const fed = manualSource<number>();
    const reader = readAhead(fed.source, 100);
    fed.give(1, 2);
    let release!: () => void;
    const waiting = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reading = reader.readWhile(waiting);
    await tick();
    release();
    await reading;
    expect([(await reader.next()).value, (await reader.next()).value]).to.deep.equal([1, 2]);
    // The read left waiting on the source is the one the consumer's next() joins.
    const next = reader.next();
    fed.give(3, 4);
    expect((await next).value).to.equal(3);
    expect(fed.reads()).to.equal(3);
  });

  it('keeps the order when it reads ahead while the consumer is waiting for the source', async () => {
    const fed = manualSource<number>();
    const reader = readAhead(fed.source, 100);
    const first = reader.next();
    let release!: () => void;
    const reading = reader.readWhile(
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    fed.give(1, 2, 3);
    await tick();
    release();
    await reading;
    expect([(await first).value, (await reader.next()).value, (await reader.next()).value]).to.deep.equal([1, 2, 3]);
    expect(fed.mostAtOnce()).to.equal(1);
  });

  it('passes a failure of the source on after the values read before it', async () => {
    const fed = manualSource<number>();
    fed.give(1, 2);
    fed.fail(new Error('dropped'));
    const reader = readAhead(fed.source, 100);
    await reader.readWhile(new Promise(() => undefined));
    expect((await reader.next()).value).to.equal(1);
    expect((await reader.next()).value).to.equal(2);
    let failure: unknown;
    await reader.next().catch((error: unknown) => {
      failure = error;
    });
    expect(failure).to.be.instanceOf(Error).with.property('message', 'dropped');
  });

  it('prepares each value as it is read, and leaves a failure of preparing to the consumer', async () => {
    const prepared: number[] = [];
    const reader = readAhead(counting(5), 10, {
      prepare: (value) => {
        if (value === 3) throw new Error('undecodable');
        prepared.push(value);
      },
    });
    await reader.readWhile(new Promise(() => undefined));
    expect(prepared).to.deep.equal([0, 1, 2, 4]);
    expect(await drain(() => reader.next())).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('refuses a capacity that is not a positive whole number', () => {
    expect(() => readAhead(counting(1), 0)).to.throw(RangeError, /capacity/);
    expect(() => readAhead(counting(1), 1.5)).to.throw(RangeError, /capacity/);
  });
});
