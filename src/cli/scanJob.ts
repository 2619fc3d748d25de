/** `scan` as a sharded dataset job: shards are `scan --range` runs, merged with merge-scans' code. */
import { normalizeSample } from '../data/preprocess.js';
import { type JobOptions, jobOptions, type ShardKind } from '../jobs/kind.js';
import { localModelHash } from '../jobs/modelHash.js';
import { openPool } from '../jobs/openPool.js';
import {
  channelReducer,
  checkIndex,
  incompatibility,
  mergeIndexes,
  type ScanIndex,
  scan,
} from '../methods/inspect/scan.js';
import { openScan, type ScanFlags } from './scan.js';

/** The scan flags that define a job (not where its result goes or how it is run). */
export const scanJobOptions = (flags: ScanFlags) =>
  jobOptions(flags, ['model', 'data', 'split', 'layers', 'top', 'batch']);

const flagsOf = (options: JobOptions) => ({ ...options, quiet: true }) as unknown as ScanFlags;

/** Opened scans (model, data, reduction graphs) reused by the shards a worker runs. */
const opened = openPool(
  async (options) => {
    const o = await openScan(flagsOf(options));
    return { ...o, reducer: channelReducer(o.m, o.fresh.layers) };
  },
  async (o) => {
    await o.reducer.release();
    await o.m.release();
  },
);

export const scanKind: ShardKind<ScanIndex> = {
  name: 'scan',
  async open(options) {
    const { m, fresh, data } = await openScan(flagsOf(options));
    await m.release();
    return { length: data.source.length, fresh, sha256: localModelHash(options.model) };
  },
  run(options, shard, signal) {
    return opened.use(options, async ({ m, data, layers, fresh, card, reducer }) => {
      const index = structuredClone(fresh);
      const p = card.preprocessing;
      const finished = await scan(m, data.source, index, {
        layers,
        top: index.top,
        batch: Number(options.batch),
        range: shard,
        toInput: (sample, out, offset) => normalizeSample(sample.image, p, out, offset),
        signal,
        reducer,
      });
      if (!finished) throw new Error(`scan of images ${shard[0]}:${shard[1]} was stopped`);
      return index;
    });
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
