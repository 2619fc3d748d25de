/** A queue worker: takes shard jobs from BullMQ, runs them here, and returns the partial results. */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'bullmq';
import { writeFileAtomic } from '../render/node.js';
import { QUEUE_NAME, type ShardJobData, type ShardJobResult } from './queue.js';
import { checkQueue, connectionOptions, type QueueAddress } from './queueUrl.js';
import { runShard } from './runShard.js';

export interface WorkerOptions {
  /** Shards run at once (default 1). */
  concurrency?: number;
  /** Write results here (a folder the coordinator also reads) instead of into Redis. */
  resultsDir?: string;
  /** A worker silent this long is presumed dead and its shard retried elsewhere (default 30 000 ms). */
  lockMs?: number;
  log?(line: string): void;
}

/** A folder the worker can write results into, or a clear error. */
export function checkResultsDir(dir: string): string {
  const abs = resolve(dir);
  try {
    mkdirSync(abs, { recursive: true });
    accessSync(abs, constants.W_OK);
  } catch (e) {
    throw new Error(`--results "${dir}" is not a writable folder: ${(e as Error).message}`);
  }
  return abs;
}

/**
 * Start taking jobs from the queue at `address`; resolves once connected, with a `close` that
 * lets running shards finish.
 *
 * @example
 * ```ts
 * const w = await startQueueWorker(parseQueueUrl('redis://127.0.0.1:6379'), { concurrency: 2 });
 * process.once('SIGTERM', () => w.close());
 * ```
 */
export async function startQueueWorker(address: QueueAddress, options: WorkerOptions = {}) {
  const resultsDir = options.resultsDir ? checkResultsDir(options.resultsDir) : undefined;
  await checkQueue(address);
  const where = `worker ${hostname()}:${process.pid}`;
  const log = options.log ?? (() => {});
  const lockMs = options.lockMs ?? 30_000;
  const worker = new Worker<ShardJobData, ShardJobResult>(
    QUEUE_NAME,
    async (job) => {
      const { spec, shard } = job.data;
      log(
        `job ${job.id} started: ${spec.kind} of images ${shard[0]}:${shard[1]} (attempt ${job.attemptsMade + 1})`,
      );
      const text = await runShard(spec, shard, where);
      log(`job ${job.id} done`);
      if (!resultsDir) return text;
      const file = join(resultsDir, `${job.id}.json`);
      writeFileAtomic(file, text);
      return { file };
    },
    {
      connection: connectionOptions(address),
      concurrency: options.concurrency ?? 1,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      maxStalledCount: 1,
    },
  );
  worker.on('failed', (job, e) => log(`job ${job?.id} failed: ${e.message}`));
  worker.on('error', (e) => log(`queue error: ${e.message}`));
  await worker.waitUntilReady();
  return { worker, where, close: () => worker.close() };
}
