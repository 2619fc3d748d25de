/**
 * Shared by the benchmarks: medians of several functions timed in turn (A, B, C, A, B, C, …) after
 * `warmup` untimed runs each, so a ratio between them compares runs under the same machine conditions.
 */
export async function interleavedMedianMs(
  fns: (() => Promise<unknown>)[],
  reps: number,
  warmup = 1,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const samples: number[][] = fns.map(() => []);
  for (let i = 0; i < reps; i++)
    for (const [j, fn] of fns.entries()) {
      const t = performance.now();
      await fn();
      samples[j].push(performance.now() - t);
    }
  return samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]);
}

/** The median wall time of `reps` runs of `fn` after `warmup` untimed ones. */
export async function medianMs(fn: () => Promise<unknown>, reps: number, warmup = 1): Promise<number> {
  return (await interleavedMedianMs([fn], reps, warmup))[0];
}
