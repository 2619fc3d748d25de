/** A worker thread of `--workers N`: runs the shards its parent posts, one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import { setSessionOptions } from '../cli/runtime.js';
import type { JobSpec } from './kind.js';
import { runShard } from './runShard.js';
import type { Shard } from './shards.js';

const { spec, threads, id } = workerData as { spec: JobSpec; threads: number; id: number };
setSessionOptions({ threads });
parentPort!.on('message', async (shard: Shard) => {
  try {
    parentPort!.postMessage({ shard, text: await runShard(spec, shard, `worker thread ${id}`) });
  } catch (e) {
    parentPort!.postMessage({ shard, error: (e as Error).message });
  }
});
parentPort!.postMessage({ ready: true });
