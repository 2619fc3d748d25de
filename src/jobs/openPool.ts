/**
 * Sessions kept open between shards: a worker that runs many shards of one job opens the model,
 * data and reduction graphs once (one set per shard running at a time), not once per shard.
 */
import type { JobOptions } from './kind.js';
import { localModelHash } from './modelHash.js';

/**
 * A pool of opened jobs keyed by their options and model bytes; idle ones of other jobs are
 * released when a new job arrives.
 *
 * @example
 * ```ts
 * const pool = openPool(openScan, (s) => s.m.release());
 * await pool.use(options, (opened) => scanShard(opened, [0, 256]));
 * ```
 */
export function openPool<T>(open: (options: JobOptions) => Promise<T>, release: (t: T) => Promise<void>) {
  const idle = new Map<string, T[]>();
  return {
    async use<R>(options: JobOptions, f: (t: T) => Promise<R>): Promise<R> {
      const key = `${localModelHash(options.model)} ${JSON.stringify(options)}`;
      for (const [k, list] of idle)
        if (k !== key) {
          idle.delete(k);
          await Promise.all(list.map(release));
        }
      const t = idle.get(key)?.pop() ?? (await open(options));
      try {
        return await f(t);
      } finally {
        const list = idle.get(key) ?? [];
        list.push(t);
        idle.set(key, list);
      }
    },
    /** Release every idle entry. */
    async clear(): Promise<void> {
      const all = [...idle.values()].flat();
      idle.clear();
      await Promise.all(all.map(release));
    },
  };
}
