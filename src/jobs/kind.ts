/** What a dataset verb provides to run in shards: open, run a range, merge, (de)serialise. */
import type { Shard } from './shards.js';

/** JSON options of a dataset verb (its command-line flags, minus where results go). */
export type JobOptions = Record<string, unknown> & { model: string };

/** A sharded job as it travels to workers: the verb, its options, and the model's content hash. */
export interface JobSpec {
  kind: string;
  options: JobOptions;
  /** sha256 of the model file the coordinator opened; a worker with other bytes refuses the job. */
  sha256: string;
}

/** One dataset verb's shard protocol; partial results `P` merge exactly whatever the split. */
export interface ShardKind<P> {
  name: string;
  /** The images the job covers and an empty result (checks the options on the coordinator). */
  open(options: JobOptions): Promise<{ length: number; fresh: P; sha256: string }>;
  /** Run images [start, end) in this process. */
  run(options: JobOptions, shard: Shard, signal?: AbortSignal): Promise<P>;
  /** The union of two disjoint partial results; throws when they belong to different jobs. */
  merge(a: P, b: P): P;
  /** Image intervals a result covers, sorted and disjoint. */
  covered(p: P): Shard[];
  serialize(p: P): string;
  parse(text: string, source: string): P;
}

/** The flags describing how images meet a model (CardFlags), part of every job's options. */
const CARD_KEYS = ['size', 'channels', 'mean', 'std', 'normalize', 'resize', 'labels', 'layout'];

/** A verb's flags that define its job: `keys` and the card flags, where set. */
export function jobOptions(flags: object, keys: readonly string[]): JobOptions {
  const all = flags as Record<string, unknown>;
  return Object.fromEntries(
    [...keys, ...CARD_KEYS].filter((k) => all[k] !== undefined).map((k) => [k, all[k]]),
  ) as JobOptions;
}
