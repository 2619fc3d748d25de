/**
 * Order-independent sums: a running total kept as an unevaluated pair hi + lo (Dekker's
 * double-length arithmetic) over values rounded to multiples of 2⁻⁶⁰. Every addition is then
 * exact while |total| < 2⁴⁴, so the pair is the canonical split of the true sum (hi = fl(sum),
 * lo = sum − hi) whatever the order or grouping of the additions: shards of a dataset merge to the
 * same bits as one pass over it. Beyond 2⁴⁴ the pair stays an accurate sum (≈106 bits).
 */

/** The grid values are rounded to before summing (only |x| < 2⁻³⁷ moves, by ≤ 2⁻⁶¹). */
export const EXACT_SUM_QUANTUM = 2 ** -60;

/** Knuth's TwoSum: s = fl(a + b) and the exact rounding error e, so a + b = s + e. */
function twoSum(a: number, b: number): [number, number] {
  const s = a + b;
  const bv = s - a;
  return [s, a - (s - bv) + (b - bv)];
}

/**
 * Add `x` to the pair (hi[i], lo[i]) in place.
 *
 * @example
 * ```ts
 * const hi = [0], lo = [0];
 * for (const x of [1e8, 1e-8, -1e8]) addExact(hi, lo, 0, x);
 * hi[0]; // 1e-8 (to the 2⁻⁶⁰ grid), where plain float64 addition gives 0
 * ```
 */
export function addExact(
  hi: number[] | Float64Array,
  lo: number[] | Float64Array,
  i: number,
  x: number,
): void {
  const q = Math.round(x / EXACT_SUM_QUANTUM) * EXACT_SUM_QUANTUM;
  const [s, e] = twoSum(hi[i], q);
  // lo and e are both below half an ulp of a total under 2⁴⁴ and on the grid, so t is exact.
  const t = lo[i] + e;
  const [h, l] = twoSum(s, t);
  hi[i] = h;
  lo[i] = l;
}

/** hi[i] + lo[i] += b.hi[i] + b.lo[i] for every i (merging two partial sums). */
export function mergeExact(
  hi: number[] | Float64Array,
  lo: number[] | Float64Array,
  otherHi: ArrayLike<number>,
  otherLo: ArrayLike<number> | undefined,
): void {
  for (let i = 0; i < hi.length; i++) {
    addExact(hi, lo, i, otherHi[i]);
    if (otherLo) addExact(hi, lo, i, otherLo[i]);
  }
}
