import { expect } from 'chai';
import fc from 'fast-check';
import { createStreamMemory } from '../../src/audit/streamMemory.js';

const codec = { encode: (value: number) => String(value), decode: (text: string) => Number(text) };

describe('audit: what verification keeps per stream', () => {
  it('answers as a map would, whichever streams went to disk, for any order of writes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 1_000 })), { maxLength: 300 }), fc.integer({ min: 1, max: 8 }), (writes, inMemory) => {
        const memory = createStreamMemory(codec, inMemory);
        const expected = new Map<string, number>();
        try {
          for (const [stream, value] of writes) {
            const name = `stream-${stream}`;
            expect(memory.get(name)).to.equal(expected.get(name));
            memory.set(name, value);
            expected.set(name, value);
          }
          for (let stream = 0; stream <= 40; stream++) expect(memory.get(`stream-${stream}`)).to.equal(expected.get(`stream-${stream}`));
        } finally {
          memory.close();
        }
      }),
    );
  });

  it('refuses to keep no stream in memory', () => {
    expect(() => createStreamMemory(codec, 0)).to.throw(RangeError, /positive integer/);
  });
});
