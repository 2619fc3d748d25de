/** A worker thread of `--workers N`: runs the shards its parent posts, one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import { setSessionOptions } from '../cli/runtime.js';
import type { Spinning } from '../runtime/backend.js';
import type { JobSpec } from './kind.js';
import { runShard } from './runShard.js';
import type { Shard } from './shards.js';

const { spec, threads, spinning, id } = workerData as {
  spec: JobSpec;
  threads: number;
  spinning?: Spinning;
  id: number;
};
setSessionOptions({ threads, spinning });
parentPort!.on('message', async (shard: Shard) => {
  try {
    parentPort!.postMessage({ shard, text: await runShard(spec, shard, `worker thread ${id}`) });
  } catch (e) {
    parentPort!.postMessage({ shard, error: (e as Error).message });
  }
});
parentPort!.postMessage({ ready: true });
