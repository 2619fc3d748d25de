import { describe, expect, it } from 'vitest';
import type { Sample } from '../../data/dataset.js';
import { Random } from '../../maths/random.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { float32, type Tensor } from '../../onnx/tensor.js';
import { ConvlensModel } from '../../runtime/model.js';
import { nodeBackend } from '../../runtime/node.js';
import {
  accumulate,
  addInterval,
  channelReducer,
  channelReductions,
  checkIndex,
  classMeans,
  emptyIndex,
  entryThresholds,
  mergeIndexes,
  missing,
  nextFloat32,
  rowPositions,
  type ScanHit,
  type ScanIndex,
  type ScanSource,
  scan,
  selectivity,
  withChannelReductions,
} from './scan.js';

// A two-layer ReLU net on 1×10×10 images and 40 random labelled images, plus a branch clipped at
// 0.5 ("c"), whose maxima tie across rows and columns.
const g = new GraphBuilder({ seed: 7 });
const x = g.input('x', ['n', 1, 10, 10]);
const a = g.named(g.relu(g.conv(x, { in: 1, out: 3, kernel: 3, pads: 1 })), 'a');
const b = g.named(g.relu(g.conv(g.maxPool(a, { kernel: 2, stride: 2 }), { in: 3, out: 4, kernel: 3 })), 'b');
const clipped = g.op1('Clip', [
  g.conv(a, { in: 3, out: 2, kernel: 3, pads: 1 }),
  g.param('zero', float32([0], [])),
  g.param('half', float32([0.5], [])),
]);
const c = g.named(clipped, 'c');
const model = new ConvlensModel(g.build([b, c]), nodeBackend());
const rng = new Random(3);
const samples: Sample[] = Array.from({ length: 40 }, (_, i) => ({
  image: Float32Array.from(rng.normals(100, 1)),
  label: i % 3,
}));
const source: ScanSource = { length: 40, classes: ['p', 'q', 'r'], load: (i) => samples[i] };
const layers = {
  a: { channels: 3, height: 10, width: 10, field: null },
  b: { channels: 4, height: 3, width: 3, field: null },
  c: { channels: 2, height: 10, width: 10, field: null },
};
const meta = {
  model: { name: 'tiny', sha256: 'abc', input: [1, 10, 10] },
  data: {
    spec: 'random',
    split: 'all',
    length: 40,
    classes: ['p', 'q', 'r'],
    fingerprint: 'f',
    preprocessing: {
      size: [10, 10] as [number, number],
      channels: 1 as const,
      resize: 'exact' as const,
      mean: [0],
      std: [1],
    },
  },
  top: 5,
};
const options = {
  layers: ['a', 'b', 'c'],
  top: 5,
  batch: 8,
  toInput: (s: Sample, out: Float32Array, offset: number) => out.set(s.image, offset),
};

async function fullScan(deferPositions: boolean, batch = 8, range?: [number, number]): Promise<ScanIndex> {
  const index = emptyIndex(meta, layers);
  expect(await scan(model, source, index, { ...options, batch, range, deferPositions })).toBe(true);
  for (const l of Object.values(index.layers))
    expect(l.top.flat().every((h) => h.y >= 0 && h.x >= 0)).toBe(true);
  return index;
}

// Per map of 2×3: zeros; a max three times (first at 1); a max last; negatives with a tie at 2 and
// 4; a max twice in one row; a max twice in one column.
const tieMaps = Float32Array.from([
  0, 0, 0, 0, 0, 0, 1, 5, 2, 5, 0, 5, 1, 2, 3, 4, 5, 6, -3, -2, -1, -4, -1, -9, 7, 0, 7, 1, 2, 3, 0, 7, 1, 2,
  7, 3,
]);
// Ties pick the first position, as the JavaScript reference does. Rows under their channel's
// threshold get no position (−1) except row 0; opset 8 has no NonZero, so every row gets one there.
describe.each([8, 9, 13, 18])('channel reductions in onnxruntime (opset %i)', (opset) => {
  it.each([
    ['every row', [-Infinity, -Infinity], [0, 1, 5, 2, 0, 1]],
    // Channel 0's maxima are 0, 6, 7 and channel 1's 5, -1, 7: a max equal to its threshold counts.
    ['rows reaching the thresholds', [6, 5], [0, 1, 5, -1, 0, 1]],
    ['no row but row 0, which is always searched', [8, 8], [0, -1, -1, -1, -1, -1]],
  ])(
    'equal the JavaScript reference (max, first row-major position, mean): %s',
    async (_, threshold, positions) => {
      const b = new GraphBuilder({ opset });
      b.input('x', ['n', 2, 2, 3]);
      const layer = b.named(b.op1('Identity', ['x']), 'l');
      const reducing = withChannelReductions(b.build([layer]), { l: { channels: 2, height: 2, width: 3 } });
      const o = reducing.outputs.l;
      expect(o.threshold === undefined).toBe(opset < 9);
      const m = new ConvlensModel(reducing.model, nodeBackend());
      const x: Tensor = { dtype: 'float32', dims: [3, 2, 2, 3], data: tieMaps };
      const fetch = [o.max, o.mean, o.argmax, ...(o.rows ? [o.rows] : [])];
      const r = await m.run(
        o.threshold
          ? { x, [o.threshold]: { dtype: 'float32', dims: [2], data: Float32Array.from(threshold) } }
          : x,
        { outputs: fetch },
      );
      await m.release();
      const expected = channelReductions(tieMaps, 3, 2, 6);
      const argmax = rowPositions(
        r[o.argmax].data as Int32Array,
        o.rows ? (r[o.rows].data as Int32Array) : undefined,
        6,
      );
      expect(Array.from(argmax)).toEqual(opset < 9 ? [0, 1, 5, 2, 0, 1] : positions);
      for (const [j, at] of argmax.entries()) if (at >= 0) expect(at).toBe(expected.argmax?.[j]);
      expect(Array.from(r[o.max].data as Float32Array)).toEqual(Array.from(expected.max));
      const mean = r[o.mean].data as Float32Array;
      // Sums of these integers are exact in float32; the mean rounds once or twice: ≤ 2 ulps.
      for (let j = 0; j < 6; j++)
        expect(Math.abs(mean[j] - expected.mean[j])).toBeLessThanOrEqual(
          2 * 2 ** -23 * Math.abs(expected.mean[j]),
        );
    },
  );
});

// Positions taken in every batch, or deferred to one pass over the surviving hits: same index.
describe.each([false, true])('dataset scan (positions deferred: %s)', (defer) => {
  it('keeps per channel the top-k images by spatial max, one entry per image, like a brute-force pass', async () => {
    const index = await fullScan(defer);
    // Kept hits of "c" whose maxima tie across rows and columns.
    let tiedAcross = 0;
    for (const layer of ['a', 'b', 'c'] as const) {
      const { channels, height, width } = layers[layer];
      const area = height * width;
      const perChannel: (ScanHit & { tied: boolean })[][] = Array.from({ length: channels }, () => []);
      for (let i = 0; i < 40; i++) {
        const out = await model.run(
          { dtype: 'float32', dims: [1, 1, 10, 10], data: samples[i].image },
          { outputs: [layer] },
        );
        const d = out[layer].data as Float32Array;
        for (let c = 0; c < channels; c++) {
          const plane = Array.from(d.subarray(c * area, (c + 1) * area));
          const at = plane.indexOf(Math.max(...plane));
          const ties = plane.flatMap((v, j) => (v === plane[at] ? [j] : []));
          const tied =
            ties.some((j) => Math.floor(j / width) !== Math.floor(at / width)) &&
            ties.some((j) => j % width !== at % width);
          perChannel[c].push({ image: i, y: Math.floor(at / width), x: at % width, value: plane[at], tied });
        }
      }
      for (let c = 0; c < channels; c++) {
        const expected = perChannel[c].sort((p, q) => q.value - p.value || p.image - q.image).slice(0, 5);
        const got = index.layers[layer].top[c];
        expect(got.map((h) => [h.image, h.y, h.x])).toEqual(expected.map((h) => [h.image, h.y, h.x]));
        for (const [k, h] of got.entries()) expect(h.value).toBeCloseTo(expected[k].value, 5);
        tiedAcross += expected.filter((h) => h.tied).length;
      }
    }
    expect(tiedAcross).toBeGreaterThan(0);
    expect(index.scanned).toEqual([[0, 40]]);
    expect(index.classCounts).toEqual([14, 13, 13]);
  });

  it('merged shards equal one full scan; overlapping or foreign shards are refused', async () => {
    const full = await fullScan(defer);
    const shards = [await fullScan(defer, 8, [24, 40]), await fullScan(defer, 8, [0, 24])];
    const merged = mergeIndexes(shards);
    // Class sums are exact, so the merge equals the full scan to the last bit, serialised too.
    expect(JSON.stringify(merged)).toBe(JSON.stringify(full));
    expect(() => mergeIndexes([shards[0], shards[0]])).toThrow(/shards overlap on images 24:40/);
    const other = { ...shards[1], model: { ...shards[1].model, name: 'other', sha256: 'zzz' } };
    expect(() => mergeIndexes([shards[0], other])).toThrow(/different models \(tiny vs other\)/);
  });

  it('a scan of images 24:40 continued over 0:24 equals a scan in order (ties in "c" then favour earlier images)', async () => {
    const full = await fullScan(defer);
    expect(full.layers.c.top[0].map((h) => h.value)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5]);
    const index = emptyIndex(meta, layers);
    const channels = channelReducer(model, index.layers);
    let passes = 0;
    const run = channels.reducer.run.bind(channels.reducer);
    channels.reducer.run = (input, o) => {
      passes++;
      return run(input, o);
    };
    for (const range of [
      [24, 40],
      [0, 24],
    ] as [number, number][])
      expect(
        await scan(model, source, index, { ...options, deferPositions: defer, range, reducer: channels }),
      ).toBe(true);
    await channels.release();
    for (const name of ['a', 'b', 'c']) expect(index.layers[name].top).toEqual(full.layers[name].top);
    // Taking positions per batch, the 2 + 3 batches found every position (no resolving pass).
    if (!defer) expect(passes).toBe(5);
  });

  it('a scan stopped after a batch and resumed equals an uninterrupted one', async () => {
    const full = await fullScan(defer);
    const index = emptyIndex(meta, layers);
    const stop = new AbortController();
    const finished = await scan(model, source, index, {
      ...options,
      deferPositions: defer,
      signal: stop.signal,
      onBatch: () => stop.abort(),
    });
    expect(finished).toBe(false);
    // Stopped during batch 0's bookkeeping: batch 1, already running, completes too.
    expect(index.scanned).toEqual([[0, 16]]);
    const saved = checkIndex(JSON.parse(JSON.stringify(index)), 'checkpoint');
    expect(await scan(model, source, saved, { ...options, deferPositions: defer })).toBe(true);
    expect(saved).toEqual(full);
  });
});

describe('entry thresholds', () => {
  const hit = (image: number, value: number) => ({ image, y: 0, x: 0, value });
  it.each([
    ['a short list takes any max', [[hit(3, 2)]], 5, [-Infinity]],
    ['a k-th hit after the batch start wins ties: its value', [[hit(9, 4), hit(6, 2)]], 5, [2]],
    ['a k-th hit before the batch: the next float32 above', [[hit(9, 4), hit(1, 2)]], 5, [2 + 2 ** -22]],
  ])('%s', (_, top, first, expected) => {
    expect(Array.from(entryThresholds({ top }, 2, first))).toEqual(expected);
  });
  it.each([
    [0, 2 ** -149],
    [1, 1 + 2 ** -23],
    [-1, -(1 - 2 ** -24)],
    [-(2 ** -149), -0],
    [3.4028234663852886e38, Infinity],
  ])('the float32 after %d is %d', (v, next) => {
    expect(nextFloat32(v)).toBe(next);
  });
});

describe('per-batch positions', () => {
  it('are searched only on rows whose max can still enter the top-k, with no second pass', async () => {
    const index = emptyIndex(meta, layers);
    const channels = channelReducer(model, index.layers);
    const searched: number[] = [];
    const run = channels.reducer.run.bind(channels.reducer);
    channels.reducer.run = async (input, o) => {
      const out = await run(input, o);
      searched.push(out[channels.reducing.outputs.a.rows!].dims[0]);
      return out;
    };
    await scan(model, source, index, { ...options, deferPositions: false, reducer: channels });
    await channels.release();
    // Five batches of 8 images, and no resolving pass: every hit got its position in its batch.
    expect(searched).toHaveLength(5);
    expect(index.layers.a.top.flat().every((h) => h.y >= 0)).toBe(true);
    // The first batch searches all 8 × 3 rows of "a" (and row 0 again); later ones only rows at or
    // above their channel's k-th value.
    expect(searched[0]).toBe(25);
    expect(Math.max(...searched.slice(2))).toBeLessThan(25);
    const full = await fullScan(false);
    expect(index.layers.a.top).toEqual(full.layers.a.top);
  });
});

describe('deferred positions', () => {
  it('resolve deepest layer first, each pass reading the pending layers upstream of its own', async () => {
    const index = emptyIndex(meta, layers);
    const channels = channelReducer(model, index.layers);
    const fetched: string[][] = [];
    const run = channels.reducer.run.bind(channels.reducer);
    channels.reducer.run = (input, o) => {
      fetched.push(o?.outputs ?? []);
      return run(input, o);
    };
    await scan(model, source, index, { ...options, deferPositions: true, reducer: channels });
    await channels.release();
    const positioned = await fullScan(false);
    for (const l of options.layers) expect(index.layers[l].top).toEqual(positioned.layers[l].top);
    // a feeds b and c, which lie on separate branches: b's images, then c's, then a's that are left.
    const images = (l: string) => new Set(index.layers[l].top.flat().map((h) => h.image));
    const leftOfA = [...images('a')].filter((i) => !images('b').has(i) && !images('c').has(i));
    expect(leftOfA.length).toBeGreaterThan(0);
    const argmax = (l: string) => {
      const o = channels.reducing.outputs[l];
      return [o.argmax, o.rows!];
    };
    const passes = (n: number, fetch: string[]) => Array.from({ length: Math.ceil(n / 8) }, () => fetch);
    expect(fetched).toEqual([
      ...passes(images('b').size, [...argmax('b'), ...argmax('a')]),
      ...passes(images('c').size, [...argmax('c'), ...argmax('a')]),
      ...passes(leftOfA.length, argmax('a')),
    ]);
  });
});

describe('scan index', () => {
  it('reads intervals, class means and selectivity', () => {
    expect(
      addInterval(
        [
          [0, 4],
          [10, 12],
        ],
        4,
        10,
      ),
    ).toEqual([[0, 12]]);
    expect(
      missing(
        [
          [2, 4],
          [6, 8],
        ],
        0,
        10,
      ),
    ).toEqual([
      [0, 2],
      [4, 6],
      [8, 10],
    ]);
    const index = emptyIndex(
      { ...meta, data: { ...meta.data, classes: ['p', 'q'] } },
      { l: { channels: 2, height: 1, width: 2, field: null } },
    );
    // Two images of class p, one of q; channel 0 fires for p only, channel 1 for both alike.
    const maps = Float32Array.from([4, 0, 1, 1, 2, 2, 1, 1, 0, 0, 1, 1]);
    accumulate(index, 'l', channelReductions(maps, 3, 2, 2), [0, 1, 2], [0, 0, 1]);
    index.classCounts = [2, 1];
    expect(classMeans(index, 'l')).toEqual([
      [2, 1],
      [0, 1],
    ]);
    expect(selectivity(classMeans(index, 'l'))).toEqual([
      [1, 0],
      [-1, 0],
    ]);
    expect(index.layers.l.top[0].map((h) => [h.image, h.x, h.value])).toEqual([
      [0, 0, 4],
      [1, 0, 2],
      [2, 0, 0],
    ]);
  });

  it('checks a parsed index and names the problem', () => {
    const index = emptyIndex(meta, layers);
    expect(() => checkIndex({ ...index, format: 'x' }, 'i.json')).toThrow(
      /"i.json" is not a convlens scan index: format is "x"/,
    );
    expect(() => checkIndex([], 'i.json')).toThrow(/format is undefined/);
    const bad = structuredClone(index);
    bad.layers.b.top[1].push({ image: 99, y: 0, x: 0, value: 1 });
    expect(() => checkIndex(bad, 'i.json')).toThrow(/layer "b" has a hit outside the data/);
  });
});
