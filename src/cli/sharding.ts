/** The flags that run a dataset verb in shards (`--workers`, `--queue`) and the run behind them. */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { runSharded } from '../jobs/coordinator.js';
import type { JobOptions, ShardKind } from '../jobs/kind.js';
import { parseQueueUrl, type QueueAddress } from '../jobs/queueUrl.js';
import type { Shard } from '../jobs/shards.js';
import { threadExecutor } from '../jobs/threads.js';
import { datasetPass, parsePositiveInt } from './common.js';
import { cliSessionOptions } from './runtime.js';

export interface ShardingFlags {
  workers: number;
  queue?: QueueAddress;
  shardSize: number;
  attempts: number;
}

export function withShardingFlags(cmd: Command): Command {
  return cmd
    .option(
      '--workers <n>',
      'run shards on N worker threads, --threads split between them (merged exactly as one run)',
      parsePositiveInt,
      1,
    )
    .option(
      '--queue <redis://HOST:PORT[/DB]>',
      'enqueue shards on a BullMQ queue for `convlens worker` processes on any machine',
      parseQueueUrl,
    )
    .option('--shard-size <n>', 'images per shard (with --workers or --queue)', parsePositiveInt, 256)
    .option('--attempts <n>', 'runs per queued shard before the job fails', parsePositiveInt, 3);
}

/** Whether the flags ask for a sharded run. */
export const isSharded = (flags: ShardingFlags) => flags.workers > 1 || flags.queue !== undefined;

/**
 * Run `kind` in shards as the flags say, with a progress bar and Ctrl-C; `checkpoint` saves the
 * merged result (so `--resume` continues it) and is called at the end too.
 */
export async function runShardedVerb<P>(
  kind: ShardKind<P>,
  options: JobOptions,
  flags: ShardingFlags & { range?: Shard; quiet?: boolean },
  run: { resume?: P; checkpoint(p: P): void; what: string },
): Promise<{ result: P; finished: boolean }> {
  if (flags.workers > 1 && flags.queue)
    throw new Error('--workers and --queue exclude each other: threads here, or workers on the queue');
  const threads = cliSessionOptions().threads ?? availableParallelism();
  // BullMQ and its Redis client load only for queued runs (a fifth of a second at start-up).
  const executor = flags.queue
    ? (await import('../jobs/queue.js')).queueExecutor(flags.queue, { attempts: flags.attempts })
    : threadExecutor(
        flags.workers,
        Math.max(1, Math.floor(threads / flags.workers)),
        cliSessionOptions().spinning,
      );
  const pass = datasetPass(kind.name, run.what, flags.quiet);
  try {
    const { result, finished } = await runSharded({
      kind,
      options,
      executor,
      shardSize: flags.shardSize,
      range: flags.range,
      resume: run.resume,
      checkpoint: run.checkpoint,
      onProgress: pass.onProgress,
      signal: pass.signal,
    });
    return { result, finished };
  } finally {
    pass.release();
  }
}
