/**
 * The coordinator's side of a BullMQ queue: one job per shard (ids derived from the job's content
 * and the shard, so a restarted coordinator finds the jobs it enqueued before), results read back
 * from Redis or a shared results folder, and the run's jobs removed once merged.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { type Job, Queue, QueueEvents } from 'bullmq';
import type { ShardExecutor } from './coordinator.js';
import type { JobSpec } from './kind.js';
import { checkQueue, connectionOptions, type QueueAddress } from './queueUrl.js';
import type { Shard } from './shards.js';

/** The BullMQ queue every convlens coordinator and worker share. */
export const QUEUE_NAME = 'convlens';

/** What a queue job carries. */
export interface ShardJobData {
  spec: JobSpec;
  shard: Shard;
}

/** A worker's answer: the partial result itself, or the file it wrote under --results. */
export type ShardJobResult = string | { file: string };

export interface QueueOptions {
  /** Runs per shard before the job fails (default 3). */
  attempts?: number;
  /** First retry delay in ms, doubling after (default 1000). */
  backoffMs?: number;
}

/** What every queue job id of one job starts with. */
const jobIdPrefix = (spec: JobSpec) =>
  `${spec.kind}-${createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16)}-`;

/** The id of a shard's queue job: the same for the same job content on every run. */
export function shardJobId(spec: JobSpec, [s, e]: Shard): string {
  return `${jobIdPrefix(spec)}${s}-${e}`;
}

/**
 * Run shards through the queue at `address`: enqueue (or find) one job per shard, wait for each,
 * report results. Ctrl-C (the signal) removes the jobs that have not started.
 *
 * @example
 * ```ts
 * await runSharded({ kind: scanKind, options, shardSize: 256,
 *   executor: queueExecutor(parseQueueUrl('redis://127.0.0.1:6379')) });
 * ```
 */
export function queueExecutor(address: QueueAddress, options: QueueOptions = {}): ShardExecutor {
  return {
    async run(spec, shards, onResult, signal) {
      if (shards.length === 0) return;
      await checkQueue(address);
      const connection = connectionOptions(address);
      const queue = new Queue<ShardJobData, ShardJobResult>(QUEUE_NAME, { connection });
      const events = new QueueEvents(QUEUE_NAME, { connection });
      // One waiter per shard listens on both.
      queue.setMaxListeners(0);
      events.setMaxListeners(0);
      const jobs: Job<ShardJobData, ShardJobResult>[] = [];
      const stop = new AbortController();
      const cancel = async () => {
        stop.abort();
        await Promise.all(
          jobs.map(async (job) => {
            if (['waiting', 'delayed', 'prioritized'].includes(await job.getState()))
              await job.remove().catch(() => {});
          }),
        );
      };
      const onAbort = () => void cancel();
      signal?.addEventListener('abort', onAbort);
      try {
        await events.waitUntilReady();
        for (const shard of shards) {
          const job = await queue.add(
            spec.kind,
            { spec, shard },
            {
              jobId: shardJobId(spec, shard),
              attempts: options.attempts ?? 3,
              backoff: { type: 'exponential', delay: options.backoffMs ?? 1000 },
              removeOnComplete: false,
              removeOnFail: false,
            },
          );
          // A job that failed in an earlier run of this coordinator gets its attempts again.
          if ((await job.getState()) === 'failed') await job.retry('failed');
          jobs.push(job);
        }
        // Interrupted while enqueueing: cancel once every job is known, and wait for nothing (an
        // abort listener added now would never fire).
        if (signal?.aborted) await cancel();
        if (stop.signal.aborted) return;
        const aborted = new Promise<void>((done) => stop.signal.addEventListener('abort', () => done()));
        const waits = jobs.map(async (job) => {
          let value: ShardJobResult;
          try {
            value = await job.waitUntilFinished(events);
          } catch (e) {
            throw new Error(
              `shard ${job.data.shard[0]}:${job.data.shard[1]} failed after ${options.attempts ?? 3} attempt(s): ${(e as Error).message}`,
            );
          }
          if (stop.signal.aborted) return;
          const text = typeof value === 'string' ? value : readFileSync(value.file, 'utf8');
          await onResult(job.data.shard, text);
        });
        const all = Promise.all(waits);
        all.catch(() => {});
        await Promise.race([all, aborted]);
        if (!stop.signal.aborted) {
          // Every shard is merged: the job's queue entries and result files are no longer needed,
          // this run's and those an earlier, interrupted coordinator merged into its checkpoint.
          const prefix = jobIdPrefix(spec);
          const finished = (await queue.getJobs(['completed', 'failed'])).filter((j) =>
            j?.id?.startsWith(prefix),
          );
          await Promise.all(
            [...jobs, ...finished].map(async (job) => {
              const value = (await queue.getJob(job.id!))?.returnvalue;
              if (value && typeof value === 'object') rmSync(value.file, { force: true });
              await job.remove().catch(() => {});
            }),
          );
        }
      } catch (e) {
        await cancel();
        throw e;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        await events.close();
        await queue.close();
      }
    },
  };
}
