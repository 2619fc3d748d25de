import { describe, expect, it } from 'vitest';
import { oddSlope } from '../autodiff/gradcheck.js';
import { Random } from '../maths/random.js';
import { nodeBackend } from '../runtime/node.js';
import { GraphBuilder } from './builder.js';
import { toFloat64 } from './float64.js';
import { encodeModel } from './model.js';
import { makeStatic } from './static.js';
import type { Tensor } from './tensor.js';

const run64 = async (b: GraphBuilder, y: string, x: Float64Array, dims: number[]) => {
  const s = await makeStatic(b.build([y]), { x: dims }, nodeBackend());
  const session = await nodeBackend().createSession(encodeModel(toFloat64(s.model, s.types)).bytes, {
    graphOptimization: 'disabled',
  });
  const feed: Tensor = { dtype: 'float64', dims, data: x };
  const out = (await session.run({ x: feed }))[y];
  await session.release();
  expect(out.dtype).toBe('float64');
  return { out: out.data as Float64Array, dims: out.dims, model: s.model };
};

/** Direct float64 convolution: y[n,m,i,j] = b[m] + Σ_{c,u,v} w[m,c,u,v]·x[n, g·C/g + c, i·s − p + u·d, …]. */
function referenceConv(
  x: Float64Array,
  [N, C, H, W]: number[],
  w: Float64Array,
  [M, Cg, KH, KW]: number[],
  bias: Float64Array | undefined,
  o: { stride: number[]; pads: number[]; dilation: number[]; group: number; out: number[] },
) {
  const [OH, OW] = o.out;
  const y = new Float64Array(N * M * OH * OW);
  const perGroup = M / o.group;
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          let sum = bias ? bias[m] : 0;
          const g = Math.floor(m / perGroup);
          for (let c = 0; c < Cg; c++)
            for (let u = 0; u < KH; u++)
              for (let v = 0; v < KW; v++) {
                const r = i * o.stride[0] - o.pads[0] + u * o.dilation[0];
                const q = j * o.stride[1] - o.pads[1] + v * o.dilation[1];
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                sum += w[((m * Cg + c) * KH + u) * KW + v] * x[((n * C + g * Cg + c) * H + r) * W + q];
              }
          y[((n * M + m) * OH + i) * OW + j] = sum;
        }
  return y;
}

// name, in and out channels, kernel, strides, pads, dilations, groups, bias
const CONV_TABLE: [string, number, number, number[], number[], number[], number[], number, boolean][] = [
  ['3×3 pad 1', 3, 4, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 1, true],
  ['stride 2, odd size', 2, 3, [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], 1, true],
  ['asymmetric pads, dilation 2', 2, 2, [3, 2], [1, 2], [0, 1, 2, 0], [2, 1], 1, true],
  ['groups 2', 4, 6, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 2, true],
  ['depthwise 7×7', 4, 4, [7, 7], [1, 1], [3, 3, 3, 3], [1, 1], 4, true],
  ['1×1, no bias', 3, 5, [1, 1], [1, 1], [0, 0, 0, 0], [1, 1], 1, false],
];
const CONVS = CONV_TABLE.map(([name, c, m, k, stride, pads, dilation, group, bias]) => ({
  name,
  c,
  m,
  k,
  stride,
  pads,
  dilation,
  group,
  bias,
}));

describe('float64 lowering', () => {
  it.each(CONVS.map((c) => [c.name, c] as const))(
    'Conv %s equals a direct float64 convolution',
    async (_, c) => {
      const rng = new Random(3);
      const dims = [2, c.c, 7, 9];
      const x = Float64Array.from(rng.normals(2 * c.c * 63));
      const b = new GraphBuilder({ seed: 5 });
      b.input('x', dims);
      const y = b.op1(
        'Conv',
        [
          'x',
          b.randn('w', [c.m, c.c / c.group, ...c.k], 0.5),
          ...(c.bias === false ? [] : [b.randn('b', [c.m], 0.5)]),
        ],
        { kernel_shape: c.k, strides: c.stride, pads: c.pads, dilations: c.dilation, group: c.group },
      );
      const { out, dims: outDims, model } = await run64(b, y, x, dims);
      const init = (prefix: string) =>
        [...model.graph.initializers].find(([k]) => k.startsWith(prefix))?.[1].data as
          | Float32Array
          | undefined;
      const expected = referenceConv(
        x,
        dims,
        Float64Array.from(init('w')!),
        [c.m, c.c / c.group, ...c.k],
        c.bias === false ? undefined : Float64Array.from(init('b')!),
        { stride: c.stride, pads: c.pads, dilation: c.dilation, group: c.group, out: outDims.slice(2) },
      );
      expect(out.length).toBe(expected.length);
      // Both sums run in float64 over at most 49·4 terms of size ~1: they agree to ~1e-14.
      for (let i = 0; i < out.length; i++) expect(Math.abs(out[i] - expected[i])).toBeLessThan(1e-12);
    },
  );

  it('Conv with auto_pad SAME_UPPER pads as onnxruntime does', async () => {
    const b = new GraphBuilder({ seed: 2 });
    b.input('x', [1, 1, 6, 5]);
    const w = b.randn('w', [1, 1, 4, 4], 0.5);
    const y = b.op1('Conv', ['x', w], { kernel_shape: [4, 4], strides: [2, 2], auto_pad: 'SAME_UPPER' });
    const x = Float64Array.from({ length: 30 }, (_, i) => i % 7);
    const { out, dims, model } = await run64(b, y, x, [1, 1, 6, 5]);
    // onnxruntime's float32 output shape, and SAME_UPPER's pads: rows 1 + 1, columns 1 + 2.
    const s = await makeStatic(b.build([y]), { x: [1, 1, 6, 5] }, nodeBackend());
    expect(dims).toEqual(s.types.get(y)!.dims);
    const weights = Float64Array.from(model.graph.initializers.get(w)!.data as Float32Array);
    const expected = referenceConv(x, [1, 1, 6, 5], weights, [1, 1, 4, 4], undefined, {
      stride: [2, 2],
      pads: [1, 1, 1, 2],
      dilation: [1, 1],
      group: 1,
      out: dims.slice(2),
    });
    for (let i = 0; i < out.length; i++) expect(Math.abs(out[i] - expected[i])).toBeLessThan(1e-12);
  });

  it('GlobalAveragePool becomes a float64 spatial mean', async () => {
    const b = new GraphBuilder();
    b.input('x', [1, 2, 2, 3]);
    const y = b.globalAveragePool('x');
    const x = Float64Array.from([1, 2, 3, 4, 5, 6, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    const { out, dims } = await run64(b, y, x, [1, 2, 2, 3]);
    expect(dims).toEqual([1, 2, 1, 1]);
    expect(out[0]).toBe(3.5);
    expect(Math.abs(out[1] - 0.35)).toBeLessThan(1e-16);
  });

  it('Erf is the float64 series to 1e-15, saturating beyond ±6', async () => {
    // erf values from Abramowitz & Stegun table 7.1 and erfc(5) = 1.5375e-12.
    const table: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [-1.5, -0.9661051464753108],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [5, 0.9999999999984626],
      [9, 1],
    ];
    const b = new GraphBuilder({ opset: 13 });
    b.input('x', [table.length]);
    const y = b.op1('Erf', ['x']);
    const { out } = await run64(b, y, Float64Array.from(table.map(([v]) => v)), [table.length]);
    for (const [i, [, e]] of table.entries()) expect(Math.abs(out[i] - e)).toBeLessThan(1e-15);
  });
});

describe('float32 finite-difference slope and its standard error', () => {
  it('recovers c₁ of c₁t + c₃t³ exactly without noise', () => {
    const t = Array.from({ length: 12 }, (_, i) => (i + 1) / 12);
    const fit = oddSlope(
      t,
      t.map((v) => 2.5 * v - 0.75 * v ** 3),
    );
    expect(Math.abs(fit.slope - 2.5)).toBeLessThan(1e-12);
    expect(fit.standardError).toBeLessThan(1e-12);
  });

  it('its standard error matches the spread of the slope over noise draws', () => {
    const rng = new Random(9);
    const t = Array.from({ length: 12 }, (_, i) => (0.01 * (i + 1)) / 12);
    const slopes: number[] = [];
    const errors: number[] = [];
    for (let r = 0; r < 400; r++) {
      const fit = oddSlope(
        t,
        t.map((v) => v + 3 * v ** 3 + 1e-4 * rng.normal()),
      );
      slopes.push(fit.slope);
      errors.push(fit.standardError);
    }
    const mean = slopes.reduce((a, b) => a + b, 0) / slopes.length;
    const sd = Math.sqrt(slopes.reduce((a, b) => a + (b - mean) ** 2, 0) / (slopes.length - 1));
    const meanError = errors.reduce((a, b) => a + b, 0) / errors.length;
    // 400 draws: the sample sd is within ±10% of the truth at 3σ; E[s] is 2.5% below σ at 10 dof.
    expect(Math.abs(mean - 1)).toBeLessThan((4 * sd) / Math.sqrt(slopes.length));
    expect(meanError / sd).toBeGreaterThan(0.85);
    expect(meanError / sd).toBeLessThan(1.15);
  });
});
