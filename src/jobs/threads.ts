/** `--workers N`: shards on N worker threads of this process, each with its own onnxruntime session. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Spinning } from '../runtime/backend.js';
import type { ShardExecutor } from './coordinator.js';
import type { Shard } from './shards.js';

/** A worker thread running threadWorker (through tsx's loader when convlens runs from its sources). */
function startThread(workerData: unknown): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(`./threadWorker.${fromSources ? 'ts' : 'js'}`, import.meta.url).href;
  if (!fromSources) return new Worker(new URL(entry), { workerData });
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsx = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`,
    { eval: true, workerData },
  );
}

/**
 * Run shards on `workers` threads with `threads` onnxruntime threads each, waiting as `spinning`
 * says (default 'auto'); a shard that fails stops the job (shards already running finish and are
 * reported first).
 *
 * @example
 * ```ts
 * await runSharded({ kind: scanKind, options, executor: threadExecutor(2, 1), shardSize: 256 });
 * ```
 */
export function threadExecutor(workers: number, threads: number, spinning?: Spinning): ShardExecutor {
  return {
    async run(spec, shards, onResult, signal) {
      const pending = [...shards];
      const pool = Array.from({ length: Math.min(workers, shards.length) }, (_, id) =>
        startThread({ spec, threads, spinning, id: id + 1 }),
      );
      let failure: Error | undefined;
      try {
        await Promise.all(
          pool.map(
            (w) =>
              new Promise<void>((done, fail) => {
                const next = () => {
                  const shard = signal?.aborted || failure ? undefined : pending.shift();
                  if (shard) w.postMessage(shard);
                  else done();
                };
                w.on(
                  'message',
                  async (m: { ready?: boolean; shard?: Shard; text?: string; error?: string }) => {
                    if (m.ready) return next();
                    try {
                      if (m.error !== undefined)
                        throw new Error(`shard ${m.shard![0]}:${m.shard![1]}: ${m.error}`);
                      await onResult(m.shard!, m.text!);
                      next();
                    } catch (e) {
                      failure ??= e as Error;
                      done();
                    }
                  },
                );
                w.on('error', (e) => fail(e));
                w.on('exit', (code) => fail(new Error(`a worker thread exited with code ${code}`)));
              }),
          ),
        );
      } finally {
        await Promise.all(pool.map((w) => w.terminate()));
      }
      if (failure) throw failure;
    },
  };
}
