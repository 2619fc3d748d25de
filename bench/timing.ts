/**
 * Shared by the benchmarks: several functions timed in turn (A, B, C, A, B, C, …) after `warmup`
 * untimed runs each, so a ratio between them compares runs under the same machine conditions.
 */
async function interleavedSamplesMs(
  fns: (() => Promise<unknown>)[],
  reps: number,
  warmup = 1,
): Promise<number[][]> {
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const samples: number[][] = fns.map(() => []);
  for (let i = 0; i < reps; i++)
    for (const [j, fn] of fns.entries()) {
      const t = performance.now();
      await fn();
      samples[j].push(performance.now() - t);
    }
  return samples;
}

const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Medians of each function's time and, for each function, the median over rounds of
 * time(fns[0]) / time(fn) within the same round: a ratio of neighbouring runs, which slow drifts
 * in machine load (common on shared machines) leave alone.
 */
export async function interleavedRatios(
  fns: (() => Promise<unknown>)[],
  reps: number,
  warmup = 1,
): Promise<{ medians: number[]; ratios: number[] }> {
  const samples = await interleavedSamplesMs(fns, reps, warmup);
  return {
    medians: samples.map(median),
    ratios: samples.map((s) => median(s.map((t, i) => samples[0][i] / t))),
  };
}

/** The median wall time of `reps` runs of `fn` after `warmup` untimed ones. */
export async function medianMs(fn: () => Promise<unknown>, reps: number, warmup = 1): Promise<number> {
  return median((await interleavedSamplesMs([fn], reps, warmup))[0]);
}
