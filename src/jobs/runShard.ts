/** Run one shard of a job in this process, after checking that this machine has the job's model. */
import type { JobSpec } from './kind.js';
import { checkJobModel } from './modelHash.js';
import { shardKind } from './registry.js';
import type { Shard } from './shards.js';

/** The shard's partial result, serialised. */
export async function runShard(
  spec: JobSpec,
  shard: Shard,
  where: string,
  signal?: AbortSignal,
): Promise<string> {
  checkJobModel(spec, where);
  const kind = shardKind(spec.kind);
  return kind.serialize(await kind.run(spec.options, shard, signal));
}
