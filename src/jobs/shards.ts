/**
 * Dataset jobs split into shards: contiguous image ranges that run anywhere (a worker thread, a
 * queue worker on another machine) and come back as partial results that merge exactly.
 */

/** Images [start, end). */
export type Shard = [number, number];

/**
 * The shards that cover what `covered` lacks of `range`, cut at multiples of `size` from the
 * range's start, so a resumed job asks for the same shards (and queue job ids) as the first run.
 *
 * @example
 * ```ts
 * planShards([0, 10], [[0, 3]], 4); // [[3, 4], [4, 8], [8, 10]]
 * ```
 */
export function planShards(range: Shard, covered: readonly Shard[], size: number): Shard[] {
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`shard size must be a positive integer, got ${size}`);
  const [start, end] = range;
  const out: Shard[] = [];
  for (let s = start; s < end; s += size) {
    let at = s;
    const stop = Math.min(s + size, end);
    for (const [a, b] of [...covered].sort((x, y) => x[0] - y[0])) {
      if (b <= at || a >= stop) continue;
      if (a > at) out.push([at, a]);
      at = Math.max(at, b);
    }
    if (at < stop) out.push([at, stop]);
  }
  return out;
}

/** Whether any image of `shard` is in `covered`. */
export const overlaps = (covered: readonly Shard[], [s, e]: Shard) =>
  covered.some(([a, b]) => a < e && s < b);

/** How many images sorted disjoint intervals hold. */
export const imageCount = (intervals: readonly Shard[]) => intervals.reduce((n, [s, e]) => n + e - s, 0);
