import { describe, expect, it } from 'vitest';
import { resizeImage } from '../../data/dataset.js';
import { Random } from '../../maths/random.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { float32 } from '../../onnx/tensor.js';
import { modelLoader } from '../../runtime/testModels.js';
import { guidedTimesCam } from './guidedGradcam.js';
import { Explainer, explain, METHOD_NAMES, paramsOf } from './index.js';
import { windowOrigins } from './occlusion.js';
import {
  extremeOutputs,
  interpolationTransposed,
  SCORE_CAM_IMAGE,
  SCORE_CAM_MAPS,
  withScoreCamMasks,
} from './scoreCam.js';
import { parseTarget } from './target.js';

/** Element-wise closeness to 5 decimals, with the index in the message. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let j = 0; j < expected.length; j++) expect(actual[j], `index ${j}`).toBeCloseTo(expected[j], 5);
}

const load = modelLoader();

/** logits = W·flatten(x) + b on a [N, 1, 4, 4] input: every pixel method's answer is known. */
const W = Array.from({ length: 3 * 16 }, (_, i) => ((i * 7) % 11) - 5 + i / 8);
async function linearModel() {
  const b = new GraphBuilder();
  b.input('x', ['n', 1, 4, 4]);
  const logits = b.named(
    b.gemm(b.flatten('x'), { in: 16, out: 3, weight: float32(W, [3, 16]), bias: true }),
    'logits',
  );
  return load(b.build([logits]));
}
const X = Array.from({ length: 16 }, (_, i) => Math.cos(i) * 2);

/**
 * x [1, 1, 2, 2] → 1×1 conv with weights (1, −1) → ReLU → A = (relu(x), relu(−x)) → GAP → Gemm.
 * For x = [[1, 2], [3, −4]]: A0 = [[1, 2], [3, 0]], A1 = [[0, 0], [0, 4]], pooled (1.5, 1),
 * logits = (2·1.5 − 1, −1.5 + 3·1) = (2, 1.5); ∂logit_c/∂A_k = w_ck / 4 everywhere.
 */
async function tinyCamNet() {
  const b = new GraphBuilder();
  b.input('x', ['n', 1, 2, 2]);
  const a = b.named(
    b.relu(b.conv('x', { in: 1, out: 2, kernel: 1, weight: float32([1, -1], [2, 1, 1, 1]), bias: false })),
    'A',
  );
  const logits = b.named(
    b.gemm(b.flatten(b.globalAveragePool(a)), {
      in: 2,
      out: 2,
      weight: float32([2, -1, -1, 3], [2, 2]),
      bias: false,
    }),
    'logits',
  );
  return load(b.build([logits]));
}
const CAM_X = float32([1, 2, 3, -4], [1, 1, 2, 2]);

describe('pixel methods on a linear model', () => {
  it('saliency, deconvnet and guided backprop all equal the weight row of the target class', async () => {
    const m = await linearModel();
    const x = float32([...X, ...X.map((v) => -v)], [2, 1, 4, 4]);
    const ex = new Explainer(m, x, { logits: 'logits' });
    const top = await ex.predicted();
    const { maps } = await explain(ex, { methods: ['saliency', 'deconvnet', 'guided-backprop'] });
    for (const map of maps) {
      expect(map.dims).toEqual([2, 1, 4, 4]);
      for (let i = 0; i < 2; i++) {
        const row = W.slice(top[i] * 16, top[i] * 16 + 16);
        expect(Array.from(map.data.slice(i * 16, i * 16 + 16))).toEqual(row.map((v) => Math.fround(v)));
      }
    }
    const class2 = await explain(ex, { methods: ['saliency'], target: { kind: 'class', index: 2 } });
    expect(Array.from(class2.maps[0].data.slice(16))).toEqual(W.slice(32).map((v) => Math.fround(v)));
  });

  it('Integrated Gradients from zero is x ⊙ w exactly, and completeness holds', async () => {
    const m = await linearModel();
    const ex = new Explainer(m, float32(X, [1, 1, 4, 4]), { logits: 'logits' });
    const { maps } = await explain(ex, {
      methods: ['ig'],
      target: { kind: 'class', index: 1 },
      params: { ig: { steps: 5 } },
    });
    const ig = maps[0];
    expectClose(
      ig.data,
      X.map((v, j) => v * W[16 + j]),
    );
    expect(Math.abs(ig.diagnostics!.delta[0])).toBeLessThan(1e-4);
  });

  it('SmoothGrad of a linear model is its weights for any noise, and equals the base method at σ = 0', async () => {
    const m = await linearModel();
    const ex = new Explainer(m, float32(X, [1, 1, 4, 4]), { logits: 'logits', batch: 7 });
    const { maps } = await explain(ex, {
      methods: ['smoothgrad'],
      target: { kind: 'class', index: 0 },
      params: { smoothgrad: { samples: 10, sigma: 0.3 } },
    });
    expectClose(maps[0].data, W.slice(0, 16));
    const zero = await explain(ex, {
      methods: ['smoothgrad', 'ig'],
      target: { kind: 'class', index: 0 },
      params: { smoothgrad: { samples: 3, sigma: 0, base: 'ig' } },
    });
    expectClose(zero.maps[0].data, zero.maps[1].data);
  });

  it('occlusion of each 2×2 window drops the score by that window’s w·x', async () => {
    const m = await linearModel();
    const ex = new Explainer(m, float32(X, [1, 1, 4, 4]), { logits: 'logits', batch: 3 });
    const { maps } = await explain(ex, {
      methods: ['occlusion'],
      target: { kind: 'class', index: 2 },
      params: { occlusion: { window: 2, stride: 2, baseline: 0 } },
    });
    expect(maps[0].dims).toEqual([1, 1, 4, 4]);
    const absScore = X.reduce((a, v, j) => a + Math.abs(W[32 + j] * v), 0);
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++) {
        const y0 = y - (y % 2);
        const x0 = x - (x % 2);
        let drop = 0;
        for (const [yy, xx] of [
          [y0, x0],
          [y0, x0 + 1],
          [y0 + 1, x0],
          [y0 + 1, x0 + 1],
        ])
          drop += W[32 + yy * 4 + xx] * X[yy * 4 + xx];
        // Each score is a float32 sum of 16 products: within γ₁₆ = 16u of Σ|w·x| (Higham, §3.1),
        // and the drop is a difference of two such scores.
        expect(Math.abs(maps[0].data[y * 4 + x] - drop)).toBeLessThanOrEqual(2 * 16 * 2 ** -24 * absScore);
      }
  });

  it('records the parameters it used: occlusion geometry, σ in input units, the baseline kind', async () => {
    const m = await linearModel();
    const x2 = [...X, ...X.map((v) => 3 * v)];
    const ex = new Explainer(m, float32(x2, [2, 1, 4, 4]), { logits: 'logits' });
    const { maps } = await explain(ex, {
      methods: ['occlusion', 'smoothgrad', 'ig'],
      params: { smoothgrad: { samples: 2, sigma: 0.25, base: 'ig', baseParams: { steps: 4 } } },
    });
    const [occ, sg, ig] = maps;
    // Defaults: an eighth of the side, at least 2, and half of it.
    expect(occ.params).toMatchObject({ window: 2, stride: 1, baseline: 0 });
    expect(ig.params).toEqual({ steps: 64, baseline: 'zero', blurSigma: undefined, rule: 'midpoint' });
    expect(sg.params).toMatchObject({ samples: 2, sigma: 0.25, base: 'ig' });
    expect(sg.params.baseParams).toMatchObject({ steps: 4, baseline: 'zero', rule: 'midpoint' });
    const range = Math.max(...X) - Math.min(...X);
    expect(paramsOf(sg, 0).sigmaInputUnits).toBeCloseTo(0.25 * range, 6);
    expect(paramsOf(sg, 1).sigmaInputUnits).toBeCloseTo(0.75 * range, 6);
    const custom = await explain(ex, {
      methods: ['ig'],
      params: { ig: { baseline: new Float32Array(16), blurSigma: 2 } },
    });
    expect(custom.maps[0].params).toMatchObject({ baseline: 'custom', blurSigma: undefined });
  });

  it('window origins cover the edge', () => {
    expect(windowOrigins(10, 4, 3)).toEqual([0, 3, 6]);
    expect(windowOrigins(11, 4, 3)).toEqual([0, 3, 6, 7]);
    expect(windowOrigins(4, 4, 2)).toEqual([0]);
  });
});

describe('ReLU backward rules', () => {
  // y = v · relu(U x) with h = U x = (3, −0.25, 2) and v = (1.5, 0.8, −0.7): the three rules gate
  // (1.5, 0, −0.7), (1.5, 0.8, 0) and (1.5, 0, 0).
  const U = [1, -1, 0.5, 2, -2, 1, 1, -1, 0.5, 0.5, 1, 1];
  const V = [1.5, 0.8, -0.7];
  const x = [0.5, -1, 2, 0.25];
  it('vanilla, deconvnet and guided differ exactly as the rules say', async () => {
    const b = new GraphBuilder();
    b.input('x', ['n', 4, 1, 1]);
    const h = b.gemm(b.flatten('x'), { in: 4, out: 3, weight: float32(U, [3, 4]), bias: false });
    const y = b.named(b.gemm(b.relu(h), { in: 3, out: 1, weight: float32(V, [1, 3]), bias: false }), 'y');
    const m = await load(b.build([y]));
    const ex = new Explainer(m, float32(x, [1, 4, 1, 1]), { logits: 'y' });
    const { maps } = await explain(ex, { methods: ['saliency', 'deconvnet', 'guided-backprop'] });
    const pre = [0, 1, 2].map((i) => U.slice(i * 4, i * 4 + 4).reduce((s, u, j) => s + u * x[j], 0));
    const back = (gate: (i: number) => number) =>
      [0, 1, 2, 3].map((j) => [0, 1, 2].reduce((s, i) => s + U[i * 4 + j] * gate(i), 0));
    const expected = {
      saliency: back((i) => (pre[i] > 0 ? V[i] : 0)),
      deconvnet: back((i) => Math.max(0, V[i])),
      'guided-backprop': back((i) => (pre[i] > 0 && V[i] > 0 ? V[i] : 0)),
    };
    expect(pre.map((p) => p > 0)).toEqual([true, false, true]);
    for (const map of maps) expectClose(map.data, expected[map.method as keyof typeof expected]);
  });
});

describe('CAM family on a hand-built conv net', () => {
  const table = [
    { method: 'gradcam', cls: 0, map: [0.5, 1, 1.5, 0] },
    { method: 'gradcam', cls: 1, map: [0, 0, 0, 3] },
    { method: 'cam', cls: 0, map: [2, 4, 6, 0] },
    { method: 'cam', cls: 1, map: [0, 0, 0, 12] },
    { method: 'layercam', cls: 0, map: [0.5, 1, 1.5, 0] },
    { method: 'counterfactual', cls: 0, map: [0, 0, 0, 1] },
    // α = g²/(2g² + ΣA·g³) = 0.25/(0.5 + 6·0.125) = 0.2 on channel 0; w0 = 4·0.2·0.5; w1 = 0 (g < 0).
    { method: 'gradcam++', cls: 0, map: [0.4, 0.8, 1.2, 0] },
  ];
  it.each(table)('$method for class $cls', async ({ method, cls, map }) => {
    const m = await tinyCamNet();
    const ex = new Explainer(m, CAM_X, { logits: 'logits' });
    const { maps, layer } = await explain(ex, { methods: [method], target: { kind: 'class', index: cls } });
    expect(layer).toBe('A');
    expect(maps[0].dims).toEqual([1, 1, 2, 2]);
    expectClose(maps[0].data, map);
  });

  it('top-1 is class 0 here', async () => {
    const ex = new Explainer(await tinyCamNet(), CAM_X, { logits: 'logits' });
    expect(await ex.predicted()).toEqual([0]);
  });

  it('Score-CAM weighs each channel by the class probability of the input masked by it', async () => {
    const m = await tinyCamNet();
    const ex = new Explainer(m, CAM_X, { logits: 'logits' });
    const { maps } = await explain(ex, { methods: ['score-cam'], target: { kind: 'class', index: 0 } });
    // H0 = A0/3 → x⊙H0 = [1/3, 4/3, 3, 0]: pooled (7/6, 0), logits (7/3, −7/6).
    // H1 = A1/4 → x⊙H1 = [0, 0, 0, −4]: pooled (0, 1), logits (−1, 3).
    const p = (a: number, b: number) => Math.exp(a) / (Math.exp(a) + Math.exp(b));
    const s0 = p(7 / 3, -7 / 6);
    const s1 = p(-1, 3);
    const expected = [1, 2, 3, 0].map((a0, j) => Math.max(0, s0 * a0 + s1 * [0, 0, 0, 4][j]));
    expectClose(maps[0].data, expected);
  });

  it('Score-CAM runs no masked copy for a channel that is zero everywhere (its term is 0)', async () => {
    const m = await tinyCamNet();
    // Image 1 is positive, so channel 1 (ReLU of −x) is dead on it.
    const x = float32([1, 2, 3, -4, 1, 2, 3, 4], [2, 1, 2, 2]);
    const ex = new Explainer(m, x, { logits: 'logits' });
    const { maps } = await explain(ex, { methods: ['score-cam'], target: { kind: 'class', index: 0 } });
    expect(maps[0].diagnostics).toEqual({ maskedRows: [2, 1], channels: [2] });
    const p = (a: number, b: number) => Math.exp(a) / (Math.exp(a) + Math.exp(b));
    // Image 1: H0 = (A0 − 1)/3 → x⊙H0 = [0, 2/3, 2, 4]: pooled (5/3, 0), logits (10/3, −5/3).
    const s0 = p(10 / 3, -5 / 3);
    const image0 = [1, 2, 3, 0].map((a0, j) => p(7 / 3, -7 / 6) * a0 + p(-1, 3) * [0, 0, 0, 4][j]);
    expectClose(maps[0].data, [...image0, ...[1, 2, 3, 4].map((a0) => s0 * a0)]);
  });

  it.each([
    [3, 6],
    [3, 9],
    [4, 9],
    [7, 64],
    [8, 64],
    [16, 224],
    [5, 5],
  ])('Score-CAM reads the min and max of a %i → %i upsampled map at a few outputs', (from, to) => {
    const rT = interpolationTransposed(from, to);
    const keep = extremeOutputs(rT, from, to);
    // Two per pair of neighbouring taps, one per clamped border and per output on a tap.
    expect(keep.length).toBeLessThanOrEqual(Math.min(to, 3 * from));
    const rng = new Random(from * 100 + to);
    for (let trial = 0; trial < 20; trial++) {
      const map = Float32Array.from(rng.normals(from * from));
      const up = resizeImage(map, 1, from, from, to, to);
      const atKept = keep.flatMap((i) => keep.map((j) => up[i * to + j]));
      expect(Math.min(...atKept)).toBeCloseTo(Math.min(...up), 6);
      expect(Math.max(...atKept)).toBeCloseTo(Math.max(...up), 6);
    }
  });

  it.each([11, 13, 18])(
    'Score-CAM masks in onnxruntime (opset %i): half-pixel bilinear upsampling, min–max per row, times the image',
    async (opset) => {
      const b = new GraphBuilder({ opset });
      b.input('x', ['n', 2, 6, 9]);
      const masked = withScoreCamMasks(b.build([b.named(b.op1('Identity', ['x']), 'y')]), [6, 9], [3, 4]);
      // Every dimension but the rows is declared: with unknown shapes onnxruntime leaves its
      // blocked (NCHWc) layout around pooling.
      expect(masked.graph.inputs.map((i) => i.shape)).toEqual([
        [1, 2, 6, 9],
        ['rows', 1, 3, 4],
      ]);
      const m = await load(masked);
      const rng = new Random(5);
      const image = rng.normals(2 * 6 * 9);
      // Row 1's map is constant, so its mask is 0.
      const maps = Float32Array.from([...rng.normals(12), ...new Array(12).fill(0.7), ...rng.normals(12)]);
      const r = await m.run(
        { [SCORE_CAM_IMAGE]: float32(image, [1, 2, 6, 9]), [SCORE_CAM_MAPS]: float32(maps, [3, 1, 3, 4]) },
        { outputs: ['y'] },
      );
      const expected: number[] = [];
      for (let row = 0; row < 3; row++) {
        const up = resizeImage(maps.subarray(row * 12, (row + 1) * 12), 1, 3, 4, 6, 9);
        const lo = Math.min(...up);
        const hi = Math.max(...up);
        for (let j = 0; j < 2 * 54; j++)
          expected.push(
            image[j] * (hi - lo > 1e-5 * (Math.abs(hi) + Math.abs(lo)) ? (up[j % 54] - lo) / (hi - lo) : 0),
          );
      }
      expect(r.y.dims).toEqual([3, 2, 6, 9]);
      expectClose(r.y.data as Float32Array, expected);
    },
  );

  it('guided Grad-CAM is guided backprop times upsampled Grad-CAM', async () => {
    const m = await tinyCamNet();
    const ex = new Explainer(m, CAM_X, { logits: 'logits' });
    const { maps } = await explain(ex, { methods: ['guided-backprop', 'gradcam', 'guided-gradcam'] });
    const [gb, gc, ggc] = maps;
    expect(Array.from(ggc.data)).toEqual(Array.from(guidedTimesCam(gb.data, gc.data, gb.dims, gc.dims)));
    expect(
      guidedTimesCam(Float32Array.of(1, 2, 3, 4), Float32Array.of(2), [1, 1, 2, 2], [1, 1, 1, 1]),
    ).toEqual(Float32Array.of(2, 4, 6, 8));
  });

  it('channel and neuron targets differentiate any tensor', async () => {
    const m = await tinyCamNet();
    const ex = new Explainer(m, CAM_X, { logits: 'logits' });
    const ch = await explain(ex, { methods: ['saliency'], target: parseTarget('channel:A:1', []) });
    // Σ relu(−x) over the map: d/dx = −1 where x < 0.
    expect(Array.from(ch.maps[0].data)).toEqual([0, 0, 0, -1]);
    const neuron = await explain(ex, { methods: ['saliency'], target: parseTarget('neuron:A:0:1:0', []) });
    expect(Array.from(neuron.maps[0].data)).toEqual([0, 0, 1, 0]);
    expect(neuron.maps[0].target.labels).toEqual(['neuron [0, 1, 0] of A']);
  });
});

describe('bad requests name the problem', () => {
  const cases: { name: string; request: Parameters<typeof explain>[1]; error: RegExp }[] = [
    {
      name: 'unknown method',
      request: { methods: ['gradcamm'] },
      error: /unknown method "gradcamm"; valid methods, nearest first: gradcam, /,
    },
    {
      name: 'unknown layer',
      request: { methods: ['gradcam'], layer: 'AA' },
      error: /layer "AA" not found; feature maps, nearest first: A/,
    },
    {
      name: 'class out of range',
      request: { methods: ['saliency'], target: { kind: 'class', index: 5 } },
      error: /class 5 is out of range; "logits" has 2 classes/,
    },
    {
      name: 'bad parameter',
      request: { methods: ['ig'], params: { ig: { steps: 0 } } },
      error: /ig: steps must be an integer/,
    },
    {
      name: 'bad baseline',
      request: { methods: ['ig'], params: { ig: { baseline: 'black' } } },
      error: /baseline "black" is not one of zero, blur/,
    },
    {
      name: 'neuron outside tensor',
      request: { methods: ['saliency'], target: { kind: 'neuron', tensor: 'A', index: [2, 0, 0] } },
      error: /does not address one element of "A"/,
    },
    {
      name: 'unknown target tensor',
      request: { methods: ['saliency'], target: { kind: 'channel', tensor: 'B', channel: 0 } },
      error: /target tensor "B" not found; nearest: /,
    },
  ];
  it.each(cases)('$name', async ({ request, error }) => {
    const ex = new Explainer(await tinyCamNet(), CAM_X, { logits: 'logits' });
    await expect(explain(ex, request)).rejects.toThrow(error);
  });

  it('CAM on a model without a GAP head points to Grad-CAM and retrofit; "all" skips it', async () => {
    const b = new GraphBuilder();
    b.input('x', ['n', 1, 4, 4]);
    const a = b.named(b.relu(b.conv('x', { in: 1, out: 2, kernel: 3, pads: 1 })), 'feat');
    const logits = b.named(b.gemm(b.flatten(a), { in: 32, out: 3 }), 'logits');
    const ex = new Explainer(await load(b.build([logits])), float32(X, [1, 1, 4, 4]), { logits: 'logits' });
    await expect(explain(ex, { methods: ['cam'] })).rejects.toThrow(
      /no global-average-pooling → linear head on "feat".*gradcam.*convlens retrofit --layer feat/,
    );
    const all = await explain(ex, { methods: ['all'], params: { occlusion: { window: 2 } } });
    expect(Object.keys(all.skipped)).toEqual(['cam']);
    // SCOUTER applies to SCOUTER models only and is left out without a note.
    expect(all.maps.map((m) => m.method)).toEqual(METHOD_NAMES.filter((n) => n !== 'cam' && n !== 'scouter'));
  });

  it('parses targets and rejects bad ones', () => {
    const classes = ['circle', 'square'];
    expect(parseTarget('', classes)).toEqual({ kind: 'top' });
    expect(parseTarget('1', classes)).toEqual({ kind: 'class', index: 1 });
    expect(parseTarget('square', classes)).toEqual({ kind: 'class', index: 1 });
    expect(parseTarget('neuron:conv3:1:2:3', classes)).toEqual({
      kind: 'neuron',
      tensor: 'conv3',
      index: [1, 2, 3],
    });
    expect(() => parseTarget('2', classes)).toThrow(/class 2 is out of range; the model has 2 classes/);
    expect(() => parseTarget('sqare', classes)).toThrow(/nearest classes: square/);
    expect(() => parseTarget('channel:x:-1', classes)).toThrow(/not a non-negative integer/);
  });
});
