import { describe, expect, it } from 'vitest';
import { runSharded, type ShardExecutor } from './coordinator.js';
import type { ShardKind } from './kind.js';
import type { Shard } from './shards.js';

/** A job whose result lists the images it saw: merges are checkable by eye. */
interface Seen {
  job: string;
  covered: Shard[];
  images: number[];
}
const LENGTH = 20;
const seenKind: ShardKind<Seen> = {
  name: 'seen',
  async open(options) {
    return { length: LENGTH, fresh: { job: String(options.job), covered: [], images: [] }, sha256: 'h' };
  },
  async run(options, [s, e]) {
    return {
      job: String(options.job),
      covered: [[s, e]],
      images: Array.from({ length: e - s }, (_, i) => s + i),
    };
  },
  merge(a, b) {
    if (a.job !== b.job) throw new Error(`different jobs (${a.job} vs ${b.job})`);
    const covered = [...a.covered, ...b.covered].sort((x, y) => x[0] - y[0]);
    return { job: a.job, covered, images: [...a.images, ...b.images].sort((x, y) => x - y) };
  },
  covered: (p) => p.covered,
  serialize: (p) => JSON.stringify(p),
  parse: (text) => JSON.parse(text),
};

/** Runs shards here, reporting them last first, the ones in `twice` twice, and failing on `failAt`. */
function localExecutor(opts: { twice?: number[]; failAt?: number } = {}) {
  const asked: Shard[] = [];
  const executor: ShardExecutor = {
    async run(spec, shards, onResult) {
      asked.push(...shards);
      for (const shard of [...shards].reverse()) {
        if (shard[0] === opts.failAt) throw new Error(`shard ${shard[0]}:${shard[1]}: worker died`);
        const text = seenKind.serialize(await seenKind.run(spec.options, shard));
        await onResult(shard, text);
        if (opts.twice?.includes(shard[0])) await onResult(shard, text);
      }
    },
  };
  return { executor, asked };
}

const all = Array.from({ length: LENGTH }, (_, i) => i);

describe('runSharded', () => {
  it('merges shards in any order, a shard reported twice once, and checkpoints what it merged', async () => {
    const { executor, asked } = localExecutor({ twice: [8, 16] });
    const saved: Seen[] = [];
    const progress: number[] = [];
    const { result, finished, merged } = await runSharded({
      kind: seenKind,
      options: { model: 'm', job: 'a' },
      executor,
      shardSize: 8,
      checkpoint: (p) => saved.push(structuredClone(p)),
      checkpointMs: 0,
      onProgress: ({ done }) => progress.push(done),
    });
    expect(asked).toEqual([
      [0, 8],
      [8, 16],
      [16, 20],
    ]);
    expect(result.images).toEqual(all);
    expect({ finished, merged }).toEqual({ finished: true, merged: 3 });
    expect(progress).toEqual([0, 4, 12, 20]);
    expect(saved.at(-1)).toEqual(result);
  });

  it('asks only for what a checkpoint lacks, and refuses a checkpoint of another job', async () => {
    const { executor, asked } = localExecutor();
    const resume = await seenKind.run({ model: 'm', job: 'a' }, [0, 10]);
    const { result } = await runSharded({
      kind: seenKind,
      options: { model: 'm', job: 'a' },
      executor,
      shardSize: 8,
      resume,
    });
    expect(asked).toEqual([
      [10, 16],
      [16, 20],
    ]);
    expect(result.images).toEqual(all);
    await expect(
      runSharded({ kind: seenKind, options: { model: 'm', job: 'b' }, executor, shardSize: 8, resume }),
    ).rejects.toThrow(/different jobs \(a vs b\)/);
  });

  it('keeps what was merged when a shard fails, and writes nothing when nothing was merged', async () => {
    const saved: Seen[] = [];
    const run = (failAt: number) =>
      runSharded({
        kind: seenKind,
        options: { model: 'm', job: 'a' },
        executor: localExecutor({ failAt }).executor,
        shardSize: 8,
        checkpoint: (p) => saved.push(structuredClone(p)),
      });
    await expect(run(0)).rejects.toThrow(/shard 0:8: worker died/);
    expect(saved.at(-1)?.covered).toEqual([
      [8, 16],
      [16, 20],
    ]);
    saved.length = 0;
    await expect(run(16)).rejects.toThrow(/shard 16:20/);
    expect(saved).toEqual([]);
  });

  it('refuses a result that covers other images than its shard, and a range past the data', async () => {
    const liar: ShardExecutor = {
      async run(_spec, shards, onResult) {
        const [s] = shards[0];
        await onResult(shards[0], JSON.stringify({ job: 'a', covered: [[s, s + 1]], images: [s] }));
      },
    };
    const base = { kind: seenKind, options: { model: 'm', job: 'a' }, shardSize: 8 };
    await expect(runSharded({ ...base, executor: liar })).rejects.toThrow(/shard 0:8 came back covering 0:1/);
    await expect(runSharded({ ...base, executor: liar, range: [0, 30] })).rejects.toThrow(
      /range 0:30 goes past the data's 20 images/,
    );
  });
});
