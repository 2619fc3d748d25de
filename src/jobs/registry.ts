/** The dataset verbs that run in shards, by name (what a queue job's `kind` names). */
import { scanKind } from '../cli/scanJob.js';
import type { ShardKind } from './kind.js';

export const SHARD_KINDS: Record<string, ShardKind<unknown>> = {
  scan: scanKind as ShardKind<unknown>,
};

export function shardKind(name: string): ShardKind<unknown> {
  const kind = SHARD_KINDS[name];
  if (!kind)
    throw new Error(`unknown job kind "${name}"; this convlens runs ${Object.keys(SHARD_KINDS).join(', ')}`);
  return kind;
}
