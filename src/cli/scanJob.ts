/** `scan` as a sharded dataset job: shards are `scan --range` runs, merged with merge-scans' code. */
import type { JobOptions, ShardKind } from '../jobs/kind.js';
import { localModelHash } from '../jobs/modelHash.js';
import { checkIndex, incompatibility, mergeIndexes, type ScanIndex } from '../methods/inspect/scan.js';
import { openScan, runScan, type ScanFlags } from './scan.js';

const flagsOf = (options: JobOptions, range?: [number, number]): ScanFlags => ({
  ...(options as unknown as ScanFlags),
  range,
  quiet: true,
});

/** The scan flags that define a job (not where its result goes or how it is run). */
export function scanJobOptions(flags: ScanFlags): JobOptions {
  const { range: _range, quiet: _quiet, ...rest } = flags as ScanFlags & Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of [
    'model',
    'data',
    'split',
    'layers',
    'top',
    'batch',
    'size',
    'channels',
    'mean',
    'std',
    'normalize',
    'resize',
    'labels',
    'layout',
  ])
    if (rest[key] !== undefined) out[key] = rest[key];
  return out as JobOptions;
}

export const scanKind: ShardKind<ScanIndex> = {
  name: 'scan',
  async open(options) {
    const { m, fresh, data } = await openScan(flagsOf(options));
    await m.release();
    return { length: data.source.length, fresh, sha256: localModelHash(options.model) };
  },
  async run(options, shard, signal) {
    const { index, finished } = await runScan(flagsOf(options, shard), undefined, undefined, { signal });
    if (!finished) throw new Error(`scan of images ${shard[0]}:${shard[1]} was stopped`);
    return index;
  },
  merge(a, b) {
    const why = incompatibility(a, b);
    if (why) throw new Error(`the checkpoint and this scan differ: ${why}`);
    return mergeIndexes([a, b]);
  },
  covered: (index) => index.scanned,
  serialize: (index) => `${JSON.stringify(index)}\n`,
  parse(text, source) {
    return checkIndex(JSON.parse(text), source);
  },
};
