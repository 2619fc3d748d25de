/** The dataset verbs that run in shards, by name (what a queue job's `kind` names). */
import { dissectKind } from '../cli/dissectJob.js';
import { embedKind } from '../cli/embedJob.js';
import { faithfulnessKind } from '../cli/faithfulnessJob.js';
import { scanKind } from '../cli/scanJob.js';
import type { ShardKind } from './kind.js';

/** Looked up at call time: the kinds' modules import the CLI, which imports this one. */
const kinds = (): Record<string, ShardKind<unknown>> => ({
  scan: scanKind as ShardKind<unknown>,
  dissect: dissectKind as ShardKind<unknown>,
  embed: embedKind as ShardKind<unknown>,
  faithfulness: faithfulnessKind as ShardKind<unknown>,
});

export function shardKind(name: string): ShardKind<unknown> {
  const kind = kinds()[name];
  if (!kind)
    throw new Error(`unknown job kind "${name}"; this convlens runs ${Object.keys(kinds()).join(', ')}`);
  return kind;
}
