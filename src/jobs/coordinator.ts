/**
 * The coordinator of a sharded dataset job: plans shards, hands them to an executor (worker
 * threads or a queue), merges partial results as they arrive, and checkpoints the merged result,
 * so a restarted coordinator asks only for the shards its checkpoint lacks.
 */
import type { JobOptions, JobSpec, ShardKind } from './kind.js';
import { imageCount, overlaps, planShards, type Shard } from './shards.js';

/** Runs shards somewhere and reports each partial result (serialised) once it is done. */
export interface ShardExecutor {
  run(
    spec: JobSpec,
    shards: readonly Shard[],
    onResult: (shard: Shard, text: string) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void>;
}

export interface ShardedRun<P> {
  kind: ShardKind<P>;
  options: JobOptions;
  executor: ShardExecutor;
  shardSize: number;
  /** Images to cover (default: all). */
  range?: Shard;
  /** An earlier checkpoint of the same job to continue. */
  resume?: P;
  /** Save the merged result so far (called after merges, at most every `checkpointMs`, and at the end). */
  checkpoint?(merged: P): void;
  checkpointMs?: number;
  onProgress?(p: { done: number; total: number }): void;
  signal?: AbortSignal;
}

/**
 * Run a job in shards and merge the results; `finished` is false when stopped by the signal.
 * A shard reported twice (a retried job whose first run also finished) merges once.
 *
 * @example
 * ```ts
 * const { result } = await runSharded({ kind: scanKind, options, executor: threadExecutor(2), shardSize: 256 });
 * ```
 */
export async function runSharded<P>(
  run: ShardedRun<P>,
): Promise<{ result: P; finished: boolean; merged: number }> {
  const { kind, options } = run;
  const { length, fresh, sha256 } = await kind.open(options);
  // Merging the fresh result checks that a checkpoint belongs to this job.
  let merged = run.resume ? kind.merge(run.resume, fresh) : fresh;
  const range = run.range ?? [0, length];
  if (range[1] > length)
    throw new Error(`range ${range[0]}:${range[1]} goes past the data's ${length} images`);
  const inRange = (p: P) => imageCount(clip(kind.covered(p), range));
  const total = range[1] - range[0];
  const shards = planShards(range, kind.covered(merged), run.shardSize);
  run.onProgress?.({ done: inRange(merged), total });
  let saved = Date.now();
  let count = 0;
  const onResult = async (shard: Shard, text: string) => {
    const part = kind.parse(text, `shard ${shard[0]}:${shard[1]}`);
    const got = kind.covered(part);
    if (got.length !== 1 || got[0][0] !== shard[0] || got[0][1] !== shard[1])
      throw new Error(
        `shard ${shard[0]}:${shard[1]} came back covering ${got.map(([s, e]) => `${s}:${e}`).join(', ') || 'nothing'}`,
      );
    if (overlaps(kind.covered(merged), shard)) return;
    merged = kind.merge(merged, part);
    count++;
    run.onProgress?.({ done: inRange(merged), total });
    if (run.checkpoint && Date.now() - saved >= (run.checkpointMs ?? 1000)) {
      run.checkpoint(merged);
      saved = Date.now();
    }
  };
  try {
    await run.executor.run({ kind: kind.name, options, sha256 }, shards, onResult, run.signal);
  } finally {
    // Nothing merged into nothing leaves nothing behind; otherwise the checkpoint is resumable.
    if (count > 0 || run.resume) run.checkpoint?.(merged);
  }
  return { result: merged, finished: inRange(merged) === total, merged: count };
}

function clip(intervals: readonly Shard[], [start, end]: Shard): Shard[] {
  return intervals.map(([s, e]): Shard => [Math.max(s, start), Math.min(e, end)]).filter(([s, e]) => s < e);
}
