import { describe, expect, it } from 'vitest';
import type { ConceptSample, ConceptSource } from '../../../data/concepts.js';
import { shapesConcepts } from '../../../data/concepts.js';
import { resizeImage } from '../../../data/dataset.js';
import { Random } from '../../../maths/random.js';
import { GraphBuilder } from '../../../onnx/builder.js';
import { float32 } from '../../../onnx/tensor.js';
import { ConvlensModel } from '../../../runtime/model.js';
import { nodeBackend } from '../../../runtime/node.js';
import { BIN_RELATIVE_WIDTH, binLowerEdge, binOf } from './bins.js';
import {
  completeDissection,
  type DissectionState,
  dissect,
  dissectionResult,
  dissectPass,
  emptyState,
  incompleteUnits,
  mergeStates,
} from './dissect.js';
import { SparseUpsampler } from './upsample.js';

const copyChannels = (s: ConceptSample, out: Float32Array, offset: number) => out.set(s.image, offset);

/** A source over samples held in memory. */
function memorySource(samples: ConceptSample[], names: string[], size: number, channels = 3): ConceptSource {
  return {
    name: 'memory',
    classes: [],
    vocabulary: { categories: ['test'], concepts: names.map((name) => ({ name, category: 'test' })) },
    length: samples.length,
    channels,
    height: size,
    width: size,
    load: (i) => samples[i],
  };
}

/** A 1×1 conv that copies input channel `from` of 3 (then optional 2×2 max-pool): a unit equal to that channel. */
function pickChannel(from: number, pool: boolean): ConvlensModel {
  const g = new GraphBuilder({ seed: 1 });
  const x = g.input('x', ['n', 3, 'h', 'w']);
  const w = float32(
    [0, 1, 2].map((c) => (c === from ? 1 : 0)),
    [1, 3, 1, 1],
  );
  let y = g.conv(x, { in: 3, out: 1, kernel: 1, weight: w, bias: false });
  if (pool) y = g.maxPool(y, { kernel: 2, stride: 2 });
  return new ConvlensModel(g.build([g.named(y, 'unit')]), nodeBackend());
}

/**
 * A two-layer ReLU conv net on 3×12×12 images ("a" at 12×12 with 3 units, "b" at 6×6 with 4),
 * with weights in quarters and biases in eighths: on images in eighths every activation is exact
 * in float32, so any kernel on any CPU gives the same bits.
 */
function randomNet(): ConvlensModel {
  const r = new Random(5);
  const dyadic = (n: number, scale: number) =>
    Array.from({ length: n }, () => (Math.floor(r.next() * 7) - 3) / scale);
  const g = new GraphBuilder();
  const x = g.input('x', ['n', 3, 12, 12]);
  const conv = (h: string, cin: number, out: number) =>
    g.conv(h, {
      in: cin,
      out,
      kernel: 3,
      pads: 1,
      weight: float32(dyadic(out * cin * 9, 4), [out, cin, 3, 3]),
      biasValue: float32(dyadic(out, 8), [out]),
    });
  const a = g.named(g.relu(conv(x, 3, 3)), 'a');
  const b = g.named(g.relu(conv(g.maxPool(a, { kernel: 2, stride: 2 }), 3, 4)), 'b');
  return new ConvlensModel(g.build([b]), nodeBackend());
}

/** Random images with three random blob concepts (a concept may be absent from an image). */
function randomSamples(n: number, size: number, seed: number): ConceptSample[] {
  const r = new Random(seed);
  return Array.from({ length: n }, () => {
    const image = Float32Array.from({ length: 3 * size * size }, () => Math.floor(8 * r.next()) / 8);
    const concepts = [0, 1, 2].flatMap((concept) => {
      if (r.next() < 0.2) return [];
      const mask = Uint8Array.from({ length: size * size }, () => (r.next() < 0.3 ? 1 : 0));
      return [{ concept, mask }];
    });
    return { image, label: 0, concepts };
  });
}

/** Dissection by brute force: every activation kept and sorted, every map upsampled with `resizeImage`. */
async function bruteForce(
  model: ConvlensModel,
  samples: ConceptSample[],
  layer: string,
  q: number,
  size: number,
) {
  const out = await model.run(
    { dtype: 'float32', dims: [samples.length, 3, size, size], data: concat(samples.map((s) => s.image)) },
    { outputs: [layer] },
  );
  const [n, channels, h, w] = out[layer].dims;
  const data = out[layer].data as Float32Array;
  return Array.from({ length: channels }, (_, c) => {
    const values: number[] = [];
    for (let i = 0; i < n; i++)
      for (let p = 0; p < h * w; p++) values.push(data[(i * channels + c) * h * w + p]);
    values.sort((a, b) => b - a);
    const exact = values[Math.max(1, Math.ceil(q * values.length)) - 1];
    const lowest = binOf(values[values.length - 1]) === binOf(exact);
    const bin = binOf(exact) + (lowest ? 1 : 0); // the unit's lowest bin: the mask takes the bins above
    const threshold = binLowerEdge(bin);
    const inter = [0, 0, 0];
    const conceptPixels = [0, 0, 0];
    let maskPixels = 0;
    for (let i = 0; i < n; i++) {
      const up = resizeImage(
        data.subarray((i * channels + c) * h * w, (i * channels + c + 1) * h * w),
        1,
        h,
        w,
        size,
        size,
      );
      for (let p = 0; p < size * size; p++) {
        const on = up[p] >= threshold;
        maskPixels += on ? 1 : 0;
        for (const { concept, mask } of samples[i].concepts) {
          conceptPixels[concept] += mask[p];
          if (on && mask[p]) inter[concept]++;
        }
      }
    }
    const iou = inter.map((v, k) => v / (maskPixels + conceptPixels[k] - v));
    return { exact, threshold, iou, lowest };
  });
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function stateFor(
  source: ConceptSource,
  layers: Record<string, [number, number, number]>,
  quantile: number,
): DissectionState {
  return emptyState(
    {
      model: { name: 'm', sha256: '-', input: [source.channels, source.height, source.width] },
      data: { spec: 'memory', length: source.length, fingerprint: '-', vocabulary: source.vocabulary },
    },
    Object.fromEntries(
      Object.entries(layers).map(([k, [channels, height, width]]) => [k, { channels, height, width }]),
    ),
    { quantile, size: [source.height, source.width] },
  );
}

describe('bins', () => {
  it('order like the values, and each lower edge is the least value of its bin', () => {
    const r = new Random(3);
    const values = [
      0,
      -0,
      1,
      -1,
      1e-30,
      -1e-30,
      3.5,
      -3.5,
      ...Array.from({ length: 200 }, () => 100 * r.normal()),
    ].map(Math.fround);
    for (const a of values) for (const b of values) if (a < b) expect(binOf(a)).toBeLessThanOrEqual(binOf(b));
    for (const v of values) {
      const edge = binLowerEdge(binOf(v));
      expect(edge).toBeLessThanOrEqual(v);
      expect(binOf(edge)).toBe(binOf(v));
      if (v > 1e-30) expect(v).toBeLessThan(edge * (1 + BIN_RELATIVE_WIDTH));
    }
  });
});

describe('SparseUpsampler', () => {
  it.each([
    [4, 4, 16, 16],
    [3, 5, 12, 13],
    [6, 6, 6, 6],
  ])(
    'finds exactly the pixels of resizeImage(%i×%i → %i×%i) at or above a threshold, with the same values',
    (h, w, H, W) => {
      const r = new Random(h * 100 + w);
      const map = Float32Array.from({ length: h * w }, () => (r.next() < 0.6 ? 0 : r.next()));
      const up = resizeImage(map, 1, h, w, H, W);
      const s = new SparseUpsampler(h, w, H, W);
      const index = new Int32Array(H * W);
      const value = new Float32Array(H * W);
      for (const edge of [0.5, 0.9, 0.01]) {
        const n = s.collect(map, 0, edge, index, value);
        const found = new Map(Array.from({ length: n }, (_, i) => [index[i], value[i]]));
        const expected = [...up.keys()].filter((p) => up[p] >= edge);
        expect([...found.keys()].sort((a, b) => a - b)).toEqual(expected);
        for (const p of expected) expect(found.get(p)).toBe(up[p]);
      }
    },
  );
});

describe('dissect', () => {
  it('labels a unit equal to a concept indicator with that concept at IoU 1', async () => {
    const r = new Random(1);
    const size = 8;
    const samples = Array.from({ length: 20 }, (): ConceptSample => {
      const mask = Uint8Array.from({ length: size * size }, () => (r.next() < 0.1 ? 1 : 0));
      const other = Uint8Array.from({ length: size * size }, () => (r.next() < 0.5 ? 1 : 0));
      const image = new Float32Array(3 * size * size);
      for (let p = 0; p < size * size; p++) {
        image[p] = r.next();
        image[size * size + p] = mask[p];
      }
      return {
        image,
        label: 0,
        concepts: [
          { concept: 0, mask: other },
          { concept: 1, mask },
        ],
      };
    });
    const source = memorySource(samples, ['noise', 'red'], size);
    const { result } = await dissect(pickChannel(1, false), source, {
      layers: ['unit'],
      toInput: copyChannels,
      batch: 8,
    });
    const [unit] = result.layers[0].units;
    expect(unit.label).toBe('red');
    expect(unit.iou).toBe(1);
    expect(unit.threshold).toBeLessThanOrEqual(1);
    expect(unit.threshold).toBeGreaterThan(0);
  });

  it('labels a unit that fires on star tips "star tip", through pooling and upsampling', async () => {
    const shapes = shapesConcepts({ length: 120, seed: 4, size: 32 });
    const tip = shapes.vocabulary.concepts.findIndex((c) => c.name === 'star tip');
    const samples = await Promise.all(
      Array.from({ length: shapes.length }, async (_, i) => {
        const s = await shapes.load(i);
        const image = s.image.slice();
        const m = s.concepts.find((c) => c.concept === tip)?.mask;
        for (let p = 0; p < 32 * 32; p++) image[2 * 32 * 32 + p] = m?.[p] ?? 0;
        return { ...s, image };
      }),
    );
    const source = { ...shapes, load: (i: number) => samples[i] };
    const { result } = await dissect(pickChannel(2, true), source, {
      layers: ['unit'],
      toInput: copyChannels,
      quantile: 0.002,
    });
    const [unit] = result.layers[0].units;
    expect(unit.label).toBe('star tip');
    expect(unit.top[0].concept).toBe('star tip');
    // Tips are 2–3 cells of the pooled map; T_k is their value, so the mask is where the
    // upsampled map stays at it (as in the paper), a core of each tip: best, but far from 1.
    expect(unit.iou).toBeGreaterThan(2 * unit.top[1].iou);
  });

  it('matches a brute-force dissection: thresholds are the quantile bins, IoUs the exact ratios', async () => {
    const samples = randomSamples(50, 12, 9);
    const source = memorySource(samples, ['p', 'q', 'r'], 12);
    const model = randomNet();
    for (const q of [0.005, 0.05]) {
      const { result } = await dissect(model, source, {
        layers: ['a', 'b'],
        toInput: copyChannels,
        batch: 16,
        quantile: q,
      });
      for (const [li, layer] of ['a', 'b'].entries()) {
        const expected = await bruteForce(model, samples, layer, q, 12);
        for (const [c, u] of result.layers[li].units.entries()) {
          expect(u.threshold).toBe(expected[c].threshold);
          if (!expected[c].lowest) expect(u.threshold).toBeLessThanOrEqual(expected[c].exact);
          const iou = Object.fromEntries(u.top.map((t) => [t.concept, t.iou]));
          expect([iou.p, iou.q, iou.r]).toEqual(expected[c].iou);
        }
      }
    }
  });

  it('recounts units whose strongest images all came first, and then matches brute force', async () => {
    // The first batch is 8× brighter: its floors sit above the final thresholds.
    const samples = randomSamples(64, 12, 2).map((s, i) =>
      i < 8 ? { ...s, image: s.image.map((v) => 8 * v) } : s,
    );
    const source = memorySource(samples, ['p', 'q', 'r'], 12);
    const model = randomNet();
    const state = stateFor(source, { a: [3, 12, 12] }, 0.05);
    const options = { layers: ['a'], toInput: copyChannels, batch: 8 };
    await dissectPass(model, source, state, options);
    expect(Object.keys(incompleteUnits(state))).toEqual(['a']);
    await completeDissection(model, source, state, options);
    expect(incompleteUnits(state)).toEqual({});
    const expected = await bruteForce(model, samples, 'a', 0.05, 12);
    for (const [c, u] of dissectionResult(state).layers[0].units.entries()) {
      expect(u.threshold).toBe(expected[c].threshold);
      const iou = Object.fromEntries(u.top.map((t) => [t.concept, t.iou]));
      expect([iou.p, iou.q, iou.r]).toEqual(expected[c].iou);
    }
  });

  it('gives the same result from merged shards, in any order, as from one pass', async () => {
    const samples = randomSamples(60, 12, 4);
    const source = memorySource(samples, ['p', 'q', 'r'], 12);
    const model = randomNet();
    const layers = { a: [3, 12, 12], b: [4, 6, 6] } as Record<string, [number, number, number]>;
    const options = { layers: ['a', 'b'], toInput: copyChannels, batch: 8 };
    const whole = stateFor(source, layers, 0.01);
    await dissectPass(model, source, whole, options);
    await completeDissection(model, source, whole, options);
    const shards = await Promise.all(
      [
        [0, 13],
        [13, 60],
      ].map(async (range) => {
        const s = stateFor(source, layers, 0.01);
        await dissectPass(model, source, s, { ...options, range: range as [number, number] });
        return s;
      }),
    );
    for (const order of [shards, [...shards].reverse()]) {
      const merged = mergeStates(order);
      await completeDissection(model, source, merged, options);
      expect(dissectionResult(merged)).toEqual(dissectionResult(whole));
    }
    expect(() => mergeStates([shards[0], shards[0]])).toThrow(/overlap on images 0:13/);
  });

  it('resumes a stopped pass to the same result', async () => {
    const samples = randomSamples(40, 12, 6);
    const source = memorySource(samples, ['p', 'q', 'r'], 12);
    const model = randomNet();
    const options = { layers: ['b'], toInput: copyChannels, batch: 8 };
    const whole = stateFor(source, { b: [4, 6, 6] }, 0.02);
    await dissectPass(model, source, whole, options);
    const stop = new AbortController();
    const resumed = stateFor(source, { b: [4, 6, 6] }, 0.02);
    const finished = await dissectPass(model, source, resumed, {
      ...options,
      signal: stop.signal,
      onBatch: (s) => {
        if (s.scanned[0][1] >= 16) stop.abort();
      },
    });
    expect(finished).toBe(false);
    expect(resumed.scanned).toEqual([[0, 16]]);
    await dissectPass(model, source, resumed, options);
    for (const s of [whole, resumed]) await completeDissection(model, source, s, options);
    expect(dissectionResult(resumed)).toEqual(dissectionResult(whole));
  });

  it('rejects bad input with errors that name it', async () => {
    const samples = randomSamples(4, 12, 1);
    const source = memorySource(samples, ['p', 'q', 'r'], 12);
    const model = randomNet();
    const options = { layers: ['a'], toInput: copyChannels };
    await expect(dissect(model, source, { ...options, quantile: 1 })).rejects.toThrow(
      /quantile must be in \(0, 1\), got 1/,
    );
    await expect(dissect(model, source, { ...options, quantile: 0 })).rejects.toThrow(/quantile/);
    await expect(dissect(model, { ...source, length: 0 }, options)).rejects.toThrow(/empty/);
    await expect(dissect(model, source, { ...options, layers: ['nope'] })).rejects.toThrow(/layer "nope"/);
    const bad = memorySource(
      [{ ...samples[0], concepts: [{ concept: 0, mask: new Uint8Array(10) }] }],
      ['p'],
      12,
    );
    await expect(dissect(model, bad, options)).rejects.toThrow(
      /image 0's mask for "p" has 10 pixels, expected 12×12/,
    );
    const unknown = memorySource(
      [{ ...samples[0], concepts: [{ concept: 5, mask: new Uint8Array(144) }] }],
      ['p'],
      12,
    );
    await expect(dissect(model, unknown, options)).rejects.toThrow(/unknown concept 5/);
    const g = new GraphBuilder();
    const x = g.input('x', ['n', 3, 12, 12]);
    const flat = g.named(g.globalAveragePool(g.conv(x, { in: 3, out: 2, kernel: 3 })), 'pooled');
    const pooled = new ConvlensModel(g.build([flat]), nodeBackend());
    await expect(dissect(pooled, source, { ...options, layers: ['pooled'] })).rejects.toThrow(
      /layer "pooled" has no spatial extent/,
    );
  });
});
