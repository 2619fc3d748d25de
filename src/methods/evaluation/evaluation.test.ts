import { describe, expect, it } from 'vitest';
import { Random } from '../../maths/random.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { float32 } from '../../onnx/tensor.js';
import { modelLoader } from '../../runtime/testModels.js';
import { reinitialized, weightedLayers } from '../../train/initialize.js';
import { Explainer, explain } from '../attribution/index.js';
import { confidenceChange } from './confidence.js';
import { perturbationCurves, stepPixels, trapezoid } from './deletionInsertion.js';
import { evaluateFaithfulness, measureFaithfulness, parseMetrics } from './faithfulness.js';
import {
  concatFaithfulnessMeasures,
  type FaithfulnessMeasures,
  summarizeFaithfulness,
} from './faithfulnessMeasures.js';
import { noisyLinearImputation } from './imputation.js';
import { rankPixels, relevancePlanes } from './planes.js';
import { pointingGame } from './pointingGame.js';
import { mapSimilarity, similarityOfMaps } from './randomization.js';
import { road } from './road.js';

const EPS32 = 2 ** -24;
const load = modelLoader();

/** logits = W·flatten(x) on a [N, 1, 4, 4] input (no bias): each pixel's contribution is w_j·x_j. */
const W = Array.from({ length: 2 * 16 }, (_, i) => ((i * 7) % 11) - 5 + i / 8);
const X = Array.from({ length: 16 }, (_, i) => Math.cos(i) * 2);
async function linearModel() {
  const b = new GraphBuilder();
  b.input('x', ['n', 1, 4, 4]);
  const logits = b.named(
    b.gemm(b.flatten('x'), { in: 16, out: 2, weight: float32(W, [2, 16]), bias: false, name: 'fc' }),
    'logits',
  );
  return load(b.build([logits]));
}
const contributions = (c: number) => X.map((v, j) => Math.fround(v) * Math.fround(W[c * 16 + j]));
/** float32 rounding bound of a 16-term dot product: 16 ulps of Σ|w·x|. */
const dotTolerance = (c: number) => 16 * EPS32 * contributions(c).reduce((a, v) => a + Math.abs(v), 0);

/** Two convolutions, global average pooling and a linear head on [N, 1, 6, 6]. */
async function convNet() {
  const b = new GraphBuilder({ seed: 4 });
  b.input('x', ['n', 1, 6, 6]);
  const a = b.relu(b.conv('x', { in: 1, out: 3, kernel: 3, pads: 1 }));
  const c = b.named(b.relu(b.conv(a, { in: 3, out: 4, kernel: 3, pads: 1 })), 'features');
  const logits = b.named(b.gemm(b.flatten(b.globalAveragePool(c)), { in: 4, out: 3 }), 'logits');
  return b.build([logits]);
}

describe('pixel ranking', () => {
  it('orders by value, largest first, with ties (−0 = 0 included) in a seeded random order', () => {
    const plane = Float32Array.from([0.5, -2, 3, 0.5, -0, 0, 3, -7]);
    const order = Array.from(rankPixels(plane, new Random(1)));
    const values = order.map((p) => plane[p] + 0);
    expect([...order].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(values).toEqual([3, 3, 0.5, 0.5, 0, 0, -2, -7]);
    // Two tied pixels come first equally often over seeds (binomial, 400 draws: 4 sd = 40).
    let first = 0;
    for (let s = 0; s < 400; s++) if (rankPixels(plane, new Random(s))[0] === 2) first++;
    expect(Math.abs(first - 200)).toBeLessThan(40);
    expect(Array.from(rankPixels(plane, new Random(1)))).toEqual(order);
  });
});

describe('deletion and insertion', () => {
  it('on a linear model the map w ⊙ x orders deletion best: every point is the sum of the smallest contributions left', async () => {
    const m = await linearModel();
    const ex = new Explainer(m, float32(X, [1, 1, 4, 4]), { logits: 'logits', batch: 5 });
    const target = await ex.bind({ kind: 'class', index: 1 });
    const wx = contributions(1);
    const planes = relevancePlanes(Float32Array.from(wx), [1, 1, 4, 4], 4, 4, 'sum');
    const del = await perturbationCurves(ex, target, planes, 'deletion', {
      step: 1,
      score: 'logit',
      substrate: 'zero',
    });
    const ascending = [...wx].sort((a, b) => a - b);
    const expected = Array.from({ length: 17 }, (_, k) =>
      ascending.slice(0, 16 - k).reduce((a, v) => a + v, 0),
    );
    expect(del.fractions).toEqual(Array.from({ length: 17 }, (_, k) => k / 16));
    for (let k = 0; k < 17; k++)
      expect(Math.abs(del.scores[k] - expected[k])).toBeLessThanOrEqual(dotTolerance(1));
    const auc = trapezoid(del.fractions, expected);
    expect(Math.abs(del.auc[0] - auc)).toBeLessThanOrEqual(dotTolerance(1));
    // No other order does better: 200 random maps all have a larger deletion AUC (or equal within rounding).
    const rng = new Random(3);
    const random = relevancePlanes(rng.normals(200 * 16), [200, 1, 4, 4], 4, 4);
    const many = new Explainer(m, float32(Array.from({ length: 200 }, () => X).flat(), [200, 1, 4, 4]), {
      logits: 'logits',
    });
    const others = await perturbationCurves(
      many,
      await many.bind({ kind: 'class', index: 1 }),
      random,
      'deletion',
      {
        step: 1,
        score: 'logit',
      },
    );
    for (const a of others.auc) expect(a).toBeGreaterThanOrEqual(auc - dotTolerance(1));
    // Insertion from a zero substrate with the same map: the largest contributions first.
    const ins = await perturbationCurves(ex, target, planes, 'insertion', {
      step: 1,
      score: 'logit',
      substrate: 'zero',
    });
    const descending = [...wx].sort((a, b) => b - a);
    for (let k = 0; k < 17; k++)
      expect(Math.abs(ins.scores[k] - descending.slice(0, k).reduce((a, v) => a + v, 0))).toBeLessThanOrEqual(
        dotTolerance(1),
      );
  });

  it('a constant map deletes in random order: the mean AUC over many orders is f(x)/2 on a linear model', async () => {
    const m = await linearModel();
    const n = 400;
    const ex = new Explainer(m, float32(Array.from({ length: n }, () => X).flat(), [n, 1, 4, 4]), {
      logits: 'logits',
    });
    const target = await ex.bind({ kind: 'class', index: 0 });
    const flat = relevancePlanes(new Float32Array(n * 16).fill(1), [n, 1, 4, 4], 4, 4);
    const { auc } = await perturbationCurves(ex, target, flat, 'deletion', {
      step: 1,
      score: 'logit',
      seed: 9,
    });
    // E[f after k random deletions] = (1 − k/16)·f(x), linear in k, so the expected AUC is f(x)/2.
    const f = contributions(0).reduce((a, v) => a + v, 0);
    const mean = auc.reduce((a, v) => a + v, 0) / n;
    const sd = Math.sqrt(auc.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
    expect(sd).toBeGreaterThan(0);
    expect(Math.abs(mean - f / 2)).toBeLessThan((4 * sd) / Math.sqrt(n));
  });

  it('step sizes: pixels or a fraction, anything else refused with the allowed range', () => {
    expect(stepPixels(0.25, 16)).toBe(4);
    expect(stepPixels(3, 16)).toBe(3);
    for (const bad of [0, -1, 1.5, 17, Number.NaN])
      expect(() => stepPixels(bad, 16)).toThrow(
        /step must be a fraction in \(0, 1\) or a whole number of pixels in \[1, 16\]/,
      );
  });
});

/** logits = (Σ x, 0) on a [N, 1, 2, 2] input: p(class 0) = σ(Σ x). */
async function sumModel() {
  const b = new GraphBuilder();
  b.input('x', ['n', 1, 2, 2]);
  const logits = b.named(
    b.gemm(b.flatten('x'), { in: 4, out: 2, weight: float32([1, 1, 1, 1, 0, 0, 0, 0], [2, 4]), bias: false }),
    'logits',
  );
  return load(b.build([logits]));
}
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

describe('average drop and increase in confidence', () => {
  it('equal their definitions on a model whose confidence is σ(Σ x)', async () => {
    const m = await sumModel();
    const x = [1, 2, -1, 0.5, /* second image */ 1, -2, 1, 1];
    const ex = new Explainer(m, float32(x, [2, 1, 2, 2]), { logits: 'logits' });
    const target = await ex.bind({ kind: 'class', index: 0 });
    // Image 1 keeps pixels 0 and 1 fully and pixel 3 at half (its confidence rises); image 2 keeps
    // pixels 0 and 1 (it falls).
    const maps = relevancePlanes(Float32Array.from([4, 4, 0, 2, 3, 3, -1, 0]), [2, 1, 2, 2], 2, 2, 'sum');
    const c = await confidenceChange(ex, target, maps);
    const y = [sigmoid(2.5), sigmoid(1)];
    const o = [sigmoid(1 + 2 + 0.25), sigmoid(1 - 2)];
    const drop = (Math.max(0, y[0] - o[0]) / y[0] + Math.max(0, y[1] - o[1]) / y[1]) / 2;
    for (let i = 0; i < 2; i++) {
      expect(c.original[i]).toBeCloseTo(y[i], 6);
      expect(c.explained[i]).toBeCloseTo(o[i], 6);
    }
    expect(c.averageDrop).toBeCloseTo(drop, 6);
    expect(c.increase).toBe(0.5);
  });
});

describe('ROAD', () => {
  it('noisy linear imputation without noise makes every removed pixel the weighted mean of its neighbours', () => {
    const h = 6;
    const w = 7;
    const rng = new Random(5);
    const image = rng.normals(2 * h * w);
    const removed = Uint8Array.from({ length: h * w }, () => (rng.next() < 0.5 ? 1 : 0));
    removed[0] = 0;
    const out = noisyLinearImputation(image, 2, h, w, removed, 0, new Random(0));
    let max = 0;
    for (const v of out) max = Math.max(max, Math.abs(v));
    for (let ch = 0; ch < 2; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const p = ch * h * w + y * w + x;
          if (!removed[y * w + x]) {
            expect(out[p]).toBe(image[p]);
            continue;
          }
          let s = 0;
          let sw = 0;
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              if ((dy === 0 && dx === 0) || y + dy < 0 || y + dy >= h || x + dx < 0 || x + dx >= w) continue;
              const wt = dy !== 0 && dx !== 0 ? 1 / 12 : 1 / 6;
              s += wt * out[ch * h * w + (y + dy) * w + x + dx];
              sw += wt;
            }
          // Each value is rounded to float32 once: the mean of rounded neighbours is off by ≤ 2 ulps of max.
          expect(Math.abs(out[p] - s / sw)).toBeLessThanOrEqual(4 * EPS32 * max);
        }
  });

  it('one removed pixel takes (Σ direct / 6 + Σ diagonal / 12) / 1; noise adds U[0, noise)', () => {
    const image = Float32Array.from([1, 2, 3, 4, 100, 6, 7, 8, 9]);
    const removed = Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0]);
    const out = noisyLinearImputation(image, 1, 3, 3, removed, 0, new Random(0));
    expect(out[4]).toBeCloseTo((2 + 4 + 6 + 8) / 6 + (1 + 3 + 7 + 9) / 12, 5);
    const noisy = noisyLinearImputation(image, 1, 3, 3, removed, 0.5, new Random(1));
    expect(noisy[4] - out[4]).toBeGreaterThanOrEqual(0);
    expect(noisy[4] - out[4]).toBeLessThan(0.5);
    // Nothing kept: no neighbour to interpolate from, the region takes 0.
    expect(
      Array.from(noisyLinearImputation(image, 1, 3, 3, new Uint8Array(9).fill(1), 0, new Random(0))),
    ).toEqual(new Array(9).fill(0));
  });

  it('MoRF removes the most relevant pixels, LeRF the least, at each fraction', async () => {
    const m = await sumModel();
    const x = [3, -1, 2, 0.5];
    const ex = new Explainer(m, float32(x, [1, 1, 2, 2]), { logits: 'logits' });
    const target = await ex.bind({ kind: 'class', index: 0 });
    const planes = relevancePlanes(Float32Array.from([4, 1, 3, 2]), [1, 1, 2, 2], 2, 2);
    const r = await road(ex, target, planes, { fractions: [0.25, 0.5], noise: 0, score: 'logit' });
    // Removing one pixel of a 2×2 image imputes it from the other three (weights 1/6, 1/6, 1/12).
    const fill = (keep: number[], at: number) => {
      const removed = Uint8Array.from([0, 1, 2, 3], (p) => (keep.includes(p) ? 0 : 1));
      return noisyLinearImputation(Float32Array.from(x), 1, 2, 2, removed, 0, new Random(0))[at];
    };
    const sum = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0);
    const imputed = (keep: number[]) =>
      sum(
        noisyLinearImputation(
          Float32Array.from(x),
          1,
          2,
          2,
          Uint8Array.from([0, 1, 2, 3], (p) => (keep.includes(p) ? 0 : 1)),
          0,
          new Random(0),
        ),
      );
    expect(fill([1, 2, 3], 0)).toBeCloseTo((-1 / 6 + 2 / 6 + 0.5 / 12) / (1 / 6 + 1 / 6 + 1 / 12), 5);
    expect(r.morf[0]).toBeCloseTo(imputed([1, 2, 3]), 5);
    expect(r.morf[1]).toBeCloseTo(imputed([1, 3]), 5);
    expect(r.lerf[0]).toBeCloseTo(imputed([0, 2, 3]), 5);
    expect(r.lerf[1]).toBeCloseTo(imputed([0, 2]), 5);
    expect(r.gap[0]).toBeCloseTo((r.lerf[0] - r.morf[0] + r.lerf[1] - r.morf[1]) / 2, 9);
  });
});

describe('pointing games', () => {
  it('count hits, misses and energy on hand-made masks', () => {
    const h = 8;
    const w = 8;
    const plane = new Float32Array(3 * h * w);
    // Sample 0: max at (2, 3); sample 1: max at (6, 6); sample 2: no mask.
    plane[2 * w + 3] = 5;
    plane[2 * w + 4] = 1;
    plane[h * w + 6 * w + 6] = 3;
    plane[h * w + 0] = 1;
    plane[h * w + 1] = -2;
    const planes = { data: plane, n: 3, height: h, width: w };
    const onMax = new Uint8Array(h * w);
    onMax[2 * w + 3] = 1;
    const twoAway = new Uint8Array(h * w);
    twoAway[6 * w + 4] = 1;
    twoAway[0] = 1;
    const strict = pointingGame(planes, [onMax, twoAway, undefined], 0);
    expect(strict.hits.slice(0, 2)).toEqual([1, 0]);
    expect(Number.isNaN(strict.hits[2])).toBe(true);
    expect(strict.accuracy).toBe(0.5);
    expect(strict.scored).toBe(2);
    // Energy: sample 0 has 5 of 6 on its mask; sample 1 has 1 of 4 (the −2 is not energy).
    expect(strict.energy[0]).toBeCloseTo(5 / 6, 12);
    expect(strict.energy[1]).toBeCloseTo(1 / 4, 12);
    expect(strict.meanEnergy).toBeCloseTo((5 / 6 + 1 / 4) / 2, 12);
    // Two pixels of tolerance reach the mask pixel two columns from the max.
    expect(pointingGame(planes, [onMax, twoAway, undefined], 2).hits.slice(0, 2)).toEqual([1, 1]);
    expect(pointingGame(planes, [onMax, twoAway, undefined], 1.9).hits.slice(0, 2)).toEqual([1, 0]);
    expect(() => pointingGame(planes, [onMax, twoAway])).toThrow(/do not match 2 images/);
  });
});

describe('weight randomisation', () => {
  it('changes exactly the chosen layers, and a layer draws the same weights at every stage', async () => {
    const model = await convNet();
    const layers = weightedLayers(model);
    expect(layers.map((l) => l.opType)).toEqual(['Conv', 'Conv', 'Gemm']);
    const top = layers[2].name;
    const second = layers[1].name;
    const one = reinitialized(model, 7, [top]);
    const two = reinitialized(model, 7, [top, second]);
    for (const [name, t] of model.graph.initializers) {
      const changedOne =
        one.graph.initializers.get(name)!.data !== t.data &&
        Array.from(one.graph.initializers.get(name)!.data as Float32Array).some((v, j) => v !== t.data[j]);
      const isTop = model.graph.nodes.find((nd) => (nd.name || nd.outputs[0]) === top)!.inputs.includes(name);
      expect(changedOne, name).toBe(isTop);
    }
    const topWeight = layers[2].weight;
    expect(Array.from(two.graph.initializers.get(topWeight)!.data as Float32Array)).toEqual(
      Array.from(one.graph.initializers.get(topWeight)!.data as Float32Array),
    );
    const firstWeight = layers[0].weight;
    expect(two.graph.initializers.get(firstWeight)!.data).toEqual(
      model.graph.initializers.get(firstWeight)!.data,
    );
    expect(() => reinitialized(model, 7, ['nope'])).toThrow(
      /no weighted layer named "nope"; weighted layers:/,
    );
  });

  it('a map is identical to itself under every similarity, and the cascade walks every layer', async () => {
    const m = await load(await convNet());
    const rng = new Random(2);
    const ex = new Explainer(m, float32(rng.normals(2 * 36), [2, 1, 6, 6]), { logits: 'logits' });
    const { maps } = await explain(ex, { methods: ['saliency', 'gradcam'] });
    for (const map of maps) {
      const s = mapSimilarity(map, map, 6, 6);
      for (const v of Object.values(s)) expect(v).toBeCloseTo(1, 12);
    }
    const report = await evaluateFaithfulness(ex, {
      methods: ['saliency', 'gradcam'],
      metrics: ['cascading', 'independent'],
    });
    expect(report.cascading!.map((s) => s.randomized.length)).toEqual([1, 2, 3]);
    expect(report.independent!.map((s) => s.randomized.length)).toEqual([1, 1, 1]);
    expect(report.cascading![2].randomized).toEqual(
      weightedLayers(m.model)
        .map((l) => l.name)
        .reverse(),
    );
    // Saliency of a net whose every weight is random shares little with the original's.
    expect(Math.abs(report.cascading![2].methods.saliency.spearmanSigned)).toBeLessThan(0.9);
    // The data randomisation comparison of a model with an identical copy finds identical maps.
    const twin = await load(m.model);
    const same = await similarityOfMaps(ex, maps, twin);
    for (const s of Object.values(same)) for (const v of Object.values(s)) expect(v).toBeCloseTo(1, 12);
  });
});

describe('faithfulness over methods', () => {
  it('scores every metric per method; masks are needed for the pointing games and asked for by name', async () => {
    const m = await linearModel();
    const ex = new Explainer(m, float32([...X, ...X.map((v) => -v)], [2, 1, 4, 4]), { logits: 'logits' });
    const mask = Uint8Array.from({ length: 16 }, (_, j) => (j < 8 ? 1 : 0));
    const report = await evaluateFaithfulness(ex, {
      methods: ['saliency', 'ig', 'occlusion'],
      metrics: ['all'],
      masks: [mask, mask],
      road: { fractions: [0.25, 0.5] },
      params: { occlusion: { window: 2, stride: 1 } },
    });
    expect(report.methods).toEqual(['saliency', 'ig', 'occlusion']);
    for (const row of report.rows) {
      for (const k of [
        'deletion',
        'insertion',
        'averageDrop',
        'increase',
        'roadMorf',
        'roadLerf',
        'roadGap',
        'pointing',
        'energy',
        'cascading',
        'independent',
      ])
        expect(Number.isFinite(row.scores[k as keyof typeof row.scores]), `${row.method} ${k}`).toBe(true);
      expect(row.deletion!.mean[0]).toBeGreaterThan(row.deletion!.mean[row.deletion!.mean.length - 1] - 1e-9);
    }
    // IG from zero is exactly w ⊙ x: its deletion AUC beats saliency's (|w| ignores x).
    const auc = (name: string) => report.rows.find((r) => r.method === name)!.scores.deletion!;
    expect(auc('ig')).toBeLessThanOrEqual(auc('saliency'));
    await expect(evaluateFaithfulness(ex, { methods: ['saliency'], metrics: ['pointing'] })).rejects.toThrow(
      /metric "pointing" needs object masks/,
    );
    const all = await evaluateFaithfulness(ex, { methods: ['saliency'], metrics: ['all'] });
    expect(all.skipped.pointing).toMatch(/needs object masks/);
    expect(() => parseMetrics(['deletion', 'roc'])).toThrow(
      /unknown metric "roc"; valid metrics: deletion, insertion/,
    );
  });

  it('maps whose shape does not match the images are refused', async () => {
    const m = await linearModel();
    const ex = new Explainer(m, float32(X, [1, 1, 4, 4]), { logits: 'logits' });
    const target = await ex.bind({ kind: 'top' });
    const wrong = relevancePlanes(new Float32Array(25), [1, 1, 5, 5], 5, 5);
    await expect(perturbationCurves(ex, target, wrong, 'deletion')).rejects.toThrow(
      /maps of 1 × 5×5 do not match 1 images of 4×4/,
    );
    expect(() => relevancePlanes(new Float32Array(10), [1, 1, 4, 4], 4, 4)).toThrow(
      /needs 16 values, got 10/,
    );
    expect(() => relevancePlanes(Float32Array.from([Number.NaN]), [1, 1, 1, 1], 1, 1)).toThrow(/non-finite/);
  });
});

describe('faithfulness in shards', () => {
  it('ranges of a batch, measured apart and joined, report exactly what the whole batch reports', async () => {
    const m = await load(await convNet());
    const twin = await load(reinitialized(m.model, 9, [weightedLayers(m.model)[2].name]));
    const n = 5;
    const x = new Random(3).normals(n * 36);
    // Samples 1 and 3 have no object: the pointing games leave them out, whichever range they are in.
    const masks = Array.from({ length: n }, (_, i) =>
      i % 2 ? undefined : Uint8Array.from({ length: 36 }, (_, j) => (j % 6 < 3 ? 1 : 0)),
    );
    const request = {
      methods: ['saliency', 'smoothgrad', 'gradcam'],
      metrics: ['all'],
      road: { fractions: [0.25, 0.5] },
      deletion: { step: 4 },
      insertion: { step: 4 },
      params: { smoothgrad: { samples: 3 } },
      dataRandomized: twin,
      seed: 5,
    };
    const explainerOf = (start: number, end: number) =>
      new Explainer(m, float32(x.subarray(start * 36, end * 36), [end - start, 1, 6, 6]), {
        logits: 'logits',
        seed: 5,
        firstSample: start,
      });
    const whole = await measureFaithfulness(explainerOf(0, n), { ...request, masks });
    const parts: FaithfulnessMeasures[] = [];
    for (const [start, end] of [
      [0, 2],
      [2, 5],
    ])
      parts.push(
        await measureFaithfulness(explainerOf(start, end), {
          ...request,
          masks: masks.slice(start, end),
          masksInBatch: true,
        }),
      );
    const joined = concatFaithfulnessMeasures(parts);
    expect(joined).toEqual(whole);
    expect(summarizeFaithfulness(joined, 0)).toEqual(summarizeFaithfulness(whole, 0));
    // The split changes nothing, and the streams do depend on the sample's place: the same image
    // at another index draws other SmoothGrad noise.
    const moved = await measureFaithfulness(
      new Explainer(m, float32(x.subarray(0, 72), [2, 1, 6, 6]), {
        logits: 'logits',
        seed: 5,
        firstSample: 7,
      }),
      { ...request, masks: masks.slice(0, 2) },
    );
    expect(moved.rows[1].deletion!.auc).not.toEqual(parts[0].rows[1].deletion!.auc);
    expect(() =>
      concatFaithfulnessMeasures([parts[0], { ...parts[1], params: { ...parts[1].params, seed: 6 } }]),
    ).toThrow(/different methods, metrics or parameters/);
  });
});

describe('shuffled labels', () => {
  it('permute the labels by seed and keep every image and the class counts', async () => {
    const { arrayDataset, classCounts, shuffledLabels } = await import('../../data/dataset.js');
    const samples = Array.from({ length: 40 }, (_, i) => ({ image: new Float32Array([i]), label: i % 4 }));
    const data = arrayDataset(
      { name: 'toy', classes: ['a', 'b', 'c', 'd'], channels: 1, height: 1, width: 1 },
      samples,
    );
    const shuffled = shuffledLabels(data, 3);
    expect(classCounts(shuffled)).toEqual(classCounts(data));
    const labels = Array.from({ length: 40 }, (_, i) => shuffled.get(i).label);
    expect(labels).not.toEqual(samples.map((s) => s.label));
    for (let i = 0; i < 40; i++) expect(shuffled.get(i).image).toBe(samples[i].image);
    expect(Array.from({ length: 40 }, (_, i) => shuffledLabels(data, 3).get(i).label)).toEqual(labels);
  });
});
