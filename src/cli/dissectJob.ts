/** `dissect`'s counting pass as a sharded dataset job: shards are `dissect --range` passes, merged with merge-dissections' code. */
import { type JobOptions, jobOptions, type ShardKind } from '../jobs/kind.js';
import { localModelHash } from '../jobs/modelHash.js';
import { openPool } from '../jobs/openPool.js';
import {
  type DissectionState,
  dissectPass,
  mergeStates,
  stateIncompatibility,
} from '../methods/inspect/dissect/dissect.js';
import { parseState, serializeState } from '../methods/inspect/dissect/state.js';
import { type DissectFlags, openDissection } from './dissect.js';

/** The dissect flags that define the counting (not where results go or how they are shown). */
export const dissectJobOptions = (flags: DissectFlags) =>
  jobOptions(flags, ['model', 'data', 'images', 'layers', 'quantile', 'batch', 'reinit']);

const flagsOf = (options: JobOptions) => ({ ...options, quiet: true }) as unknown as DissectFlags;

/** Opened dissections (model, concept data) reused by the shards a worker runs. */
const opened = openPool(
  (options) => openDissection(flagsOf(options)),
  (o) => o.m.release(),
);

export const dissectKind: ShardKind<DissectionState> = {
  name: 'dissect',
  async open(options) {
    const { m, fresh, source } = await openDissection(flagsOf(options));
    await m.release();
    return { length: source.length, fresh, sha256: localModelHash(options.model) };
  },
  run(options, shard, signal) {
    return opened.use(options, async ({ m, fresh, source, passOptions }) => {
      const state = structuredClone(fresh);
      if (!(await dissectPass(m, source, state, { ...passOptions({ signal }), range: shard })))
        throw new Error(`dissection of images ${shard[0]}:${shard[1]} was stopped`);
      return state;
    });
  },
  merge(a, b) {
    const why = stateIncompatibility(a, b);
    if (why) throw new Error(`the checkpoint and this dissection differ: ${why}`);
    return mergeStates([a, b]);
  },
  covered: (state) => state.scanned,
  serialize: serializeState,
  parse: parseState,
};
