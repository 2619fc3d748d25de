import { describe, expect, it } from 'vitest';
import { checkGradients, samplers } from '../autodiff/gradcheck.js';
import { Random } from '../maths/random.js';
import { GraphBuilder } from '../onnx/builder.js';
import { cloneModel, type Model } from '../onnx/model.js';
import { float32, int64 } from '../onnx/tensor.js';
import { nodeBackend } from '../runtime/node.js';
import { modelLoader } from '../runtime/testModels.js';
import { conditionalInstanceNorm, isConditionalNormParameter, styleNetwork } from './styleNetwork.js';

const load = modelLoader();
const EPS32 = 2 ** -23;

/** Γ and B tables filled with random values (γ around 1), so styles differ. */
function randomizeTables(model: Model, seed: number): Model {
  const out = cloneModel(model);
  const rng = new Random(seed);
  for (const [name, t] of out.graph.initializers)
    if (isConditionalNormParameter(name)) {
      const data = rng.normals(t.data.length, 0.3);
      if (name.endsWith('_gamma')) for (let i = 0; i < data.length; i++) data[i] += 1;
      out.graph.initializers.set(name, { ...t, data });
    }
  return out;
}

/** y = (wΓ) x̂ + wB in float64, x̂ normalised over each (n, c) plane with ε = 1e-5. */
function referenceNorm(
  x: Float32Array,
  [n, c, area]: number[],
  w: number[][],
  gamma: Float32Array,
  beta: Float32Array,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++) {
      const plane = x.subarray((i * c + ch) * area, (i * c + ch + 1) * area);
      const mean = plane.reduce((s, v) => s + v, 0) / area;
      const variance = plane.reduce((s, v) => s + (v - mean) ** 2, 0) / area;
      let g = 0;
      let bb = 0;
      w[i].forEach((wk, k) => {
        g += wk * gamma[k * c + ch];
        bb += wk * beta[k * c + ch];
      });
      plane.forEach((v, j) => {
        y[(i * c + ch) * area + j] = (g * (v - mean)) / Math.sqrt(variance + 1e-5) + bb;
      });
    }
  return y;
}

function normModel(): Model {
  const b = new GraphBuilder({ seed: 1 });
  const x = b.input('x', [2, 3, 4, 5]);
  const w = b.input('w', [2, 2]);
  const y = conditionalInstanceNorm(b, x, {
    channels: 3,
    styles: 2,
    style: w,
    name: 'cin',
    axes: b.param('axes', int64([2, 3])),
  });
  return randomizeTables(b.build([y]), 5);
}

describe('conditional instance normalisation', () => {
  it('computes (wΓ)·x̂ + wB per sample and channel', async () => {
    const model = normModel();
    const rng = new Random(2);
    const x = rng.normals(2 * 3 * 20, 2).map((v) => v + 0.5);
    const w = [
      [1, 0],
      [0.25, 0.75],
    ];
    const m = await load(model);
    const out = await m.run({ x: float32(x, [2, 3, 4, 5]), w: float32(w.flat(), [2, 2]) });
    const y = out.cin.data as Float32Array;
    const init = model.graph.initializers;
    const expected = referenceNorm(
      x,
      [2, 3, 20],
      w,
      init.get('cin_gamma')!.data as Float32Array,
      init.get('cin_beta')!.data as Float32Array,
    );
    const scale = Math.max(...expected.map(Math.abs));
    // A 20-term mean and variance, a square root and three products: tens of float32 roundings.
    expect(Math.max(...expected.map((v, i) => Math.abs(v - y[i])))).toBeLessThan(64 * EPS32 * scale);
  });

  it('has gradients for input, style weights, Γ and B that match finite differences', async () => {
    const result = await checkGradients(normModel(), nodeBackend(), {
      inputShapes: { x: [2, 3, 4, 5], w: [2, 2] },
      wrt: ['x', 'w', 'cin_gamma', 'cin_beta'],
      samplers: { x: samplers.normal, w: samplers.uniform(0, 1) },
    });
    for (const c of result.checks)
      expect(c.passed, `${c.wrt}: analytic ${c.analytic} vs numeric ${c.numeric} ± ${c.standardError}`).toBe(
        true,
      );
  });
});

describe('the style network', () => {
  const tiny = () => randomizeTables(styleNetwork({ styles: 2, width: 2, residualBlocks: 1, seed: 3 }), 7);

  it('keeps any input size divisible by 4 and outputs pixels in (0, 1)', async () => {
    const m = await load(styleNetwork({ styles: 3, width: 4, residualBlocks: 2 }));
    for (const [h, w] of [
      [12, 20],
      [32, 8],
    ]) {
      const image = new Random(h).normals(3 * h * w, 0.3).map((v) => v + 0.5);
      const out = await m.run({ image: float32(image, [1, 3, h, w]), style: float32([0, 0, 1], [1, 3]) });
      expect(out.stylized.dims).toEqual([1, 3, h, w]);
      const y = out.stylized.data as Float32Array;
      expect(y.every((v) => v > 0 && v < 1)).toBe(true);
    }
  });

  it('picks exactly one (γ, β) set with a one-hot style vector', async () => {
    const two = tiny();
    const image = float32(new Random(4).normals(3 * 16 * 16, 0.3), [1, 3, 16, 16]);
    const both = await load(two);
    for (const s of [0, 1]) {
      // The same network holding style s alone: each table cut to its row s.
      const one = cloneModel(two);
      for (const [name, t] of one.graph.initializers)
        if (isConditionalNormParameter(name)) {
          const c = t.dims[1];
          one.graph.initializers.set(
            name,
            float32((t.data as Float32Array).slice(s * c, (s + 1) * c), [1, c]),
          );
        }
      one.graph.inputs = one.graph.inputs.map((i) => (i.name === 'style' ? { ...i, shape: ['N', 1] } : i));
      const single = await load(one);
      const want = (await single.run({ image, style: float32([1], [1, 1]) })).stylized.data;
      const got = (await both.run({ image, style: float32(s === 0 ? [1, 0] : [0, 1], [1, 2]) })).stylized
        .data;
      // 1·a + 0·b is a exactly, so the two graphs compute the same numbers.
      expect(got).toEqual(want);
    }
  });

  it('mixes styles linearly in each normalisation', async () => {
    const m = await load(tiny());
    const image = float32(new Random(5).normals(3 * 8 * 8, 0.3), [1, 3, 8, 8]);
    const cin1 = async (w: number[]) =>
      (await m.run({ image, style: float32(w, [1, 2]) }, { outputs: ['cin1'] })).cin1.data as Float32Array;
    const [a, b, mix] = [await cin1([1, 0]), await cin1([0, 1]), await cin1([0.3, 0.7])];
    const scale = Math.max(...a.map(Math.abs), ...b.map(Math.abs));
    const worst = Math.max(...mix.map((v, i) => Math.abs(v - (0.3 * a[i] + 0.7 * b[i]))));
    expect(worst).toBeLessThan(16 * EPS32 * scale);
    // …and the mix is not one of the styles.
    expect(Math.max(...mix.map((v, i) => Math.abs(v - a[i])))).toBeGreaterThan(0.01 * scale);
  });

  it('has whole-network gradients (image, style, weights, tables) that match finite differences', async () => {
    const model = tiny();
    const firstConv = model.graph.nodes.find((n) => n.opType === 'Conv')!.inputs[1];
    const result = await checkGradients(model, nodeBackend(), {
      inputShapes: { image: [1, 3, 8, 8], style: [1, 2] },
      wrt: ['image', 'style', firstConv, 'cin3_gamma', 'cin5_beta'],
      samplers: { image: samplers.uniform(0, 1), style: samplers.uniform(0, 1) },
      alongGradient: true,
      step: 0.01,
    });
    for (const c of result.checks)
      expect(
        c.passed,
        `${c.wrt} (${c.direction}): analytic ${c.analytic} vs numeric ${c.numeric} ± ${c.standardError} (${result.precision})`,
      ).toBe(true);
  });
});
