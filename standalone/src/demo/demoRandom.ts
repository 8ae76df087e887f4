/** A small seeded generator (mulberry32), so a demo run with the same seed writes the same story. */
export const createRandom = (seed: number) => {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const below = (n: number): number => Math.floor(next() * n);
  return {
    next,
    below,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('nothing to pick from');
      return items[below(items.length)]!;
    },
    /** A whole number from `min` to `max` inclusive, drawn without passing through a float. */
    bigintBetween: (min: bigint, max: bigint): bigint => {
      const span = max - min + 1n;
      const draw = (BigInt(Math.floor(next() * 2 ** 26)) << 26n) | BigInt(Math.floor(next() * 2 ** 26));
      return min + (draw % span);
    },
  };
};

export type Random = ReturnType<typeof createRandom>;
