import { describe, expect, it } from 'vitest';
import { addExact, EXACT_SUM_QUANTUM, mergeExact } from './exactSum.js';
import { Random } from './random.js';

/** Float32 values over many binades, as a layer's spatial means are. */
function values(n: number, seed: number): number[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => Math.fround(rng.next() ** 8 * 10 ** (3 * rng.next() - 1)));
}

const sum = (xs: readonly number[]) => {
  const hi = [0];
  const lo = [0];
  for (const x of xs) addExact(hi, lo, 0, x);
  return [hi[0], lo[0]];
};

describe('exact sums', () => {
  it('give the same pair in any order and any grouping, where plain float64 sums differ', () => {
    const xs = values(5000, 3);
    const forward = sum(xs);
    const backward = sum([...xs].reverse());
    expect(backward).toEqual(forward);
    const plain = (ys: number[]) => ys.reduce((a, b) => a + b, 0);
    expect(plain([...xs].reverse())).not.toBe(plain(xs));
    for (const cut of [1, 77, 2500, 4999]) {
      const [ah, al] = sum(xs.slice(0, cut));
      const [bh, bl] = sum(xs.slice(cut));
      const hi = [bh];
      const lo = [bl];
      mergeExact(hi, lo, [ah], [al]);
      expect([hi[0], lo[0]]).toEqual(forward);
    }
  });

  it('is the true sum: integers and cancellations come out exact', () => {
    expect(sum([1e8, 1e-8, -1e8])[0]).toBe(Math.round(1e-8 / EXACT_SUM_QUANTUM) * EXACT_SUM_QUANTUM);
    expect(sum([2 ** 40, 2 ** -50, -(2 ** 40)])).toEqual([2 ** -50, 0]);
    const ints = Array.from({ length: 1000 }, (_, i) => i);
    expect(sum(ints)).toEqual([499500, 0]);
  });
});
