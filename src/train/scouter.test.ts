import { describe, expect, it } from 'vitest';
import { checkGradients, samplers } from '../autodiff/gradcheck.js';
import { Random } from '../maths/random.js';
import { GraphBuilder } from '../onnx/builder.js';
import type { Model } from '../onnx/model.js';
import { float32 } from '../onnx/tensor.js';
import { nodeBackend } from '../runtime/node.js';
import { modelLoader } from '../runtime/testModels.js';
import { appendScouterHead, type ScouterOptions, sinePositionalEncoding } from './scouter.js';

const load = modelLoader();
const [C, H, W] = [3, 4, 5];

/** A backbone that is its input: the feature map is fed directly. */
function identityBackbone(): Model {
  const b = new GraphBuilder({ seed: 1 });
  const f = b.named(b.op1('Identity', [b.input('input', ['N', C, H, W])]), 'features');
  return b.build([f]);
}

function head(options: Partial<ScouterOptions> = {}) {
  return appendScouterHead(identityBackbone(), 'features', C, [H, W], {
    classes: 3,
    lambda: 1,
    hidden: 4,
    iterations: 3,
    seed: 2,
    ...options,
  });
}

/** SCOUTER's forward pass in float64, from the head's own weights (the module's equations). */
function reference(
  model: Model,
  params: string[],
  f: Float32Array,
  n: number,
  o: { classes: number; spc: number; d: number; iterations: number; lambda: number },
) {
  const w = (suffix: string) => {
    const name = params.find((p) => p.endsWith(suffix))!;
    return Float64Array.from(model.graph.initializers.get(name)!.data as Float32Array);
  };
  const { d, classes, spc, iterations, lambda } = o;
  const positions = H * W;
  const slots = classes * spc;
  const pe = sinePositionalEncoding(d, H, W);
  const [pw, pb, kw, kb] = [w('proj_w'), w('proj_b'), w('to_k_w'), w('to_k_b')];
  const gates = ['r', 'z', 'n'].map((g) => ({
    wi: w(`gru_${g}_wi`),
    bi: w(`gru_${g}_bi`),
    wh: w(`gru_${g}_wh`),
    bh: w(`gru_${g}_bh`),
  }));
  const affine = (v: number[], m: Float64Array, b: Float64Array) =>
    Array.from({ length: d }, (_, j) => v.reduce((s, vi, i) => s + vi * m[i * d + j], b[j]));
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const logits: number[] = [];
  const maps: number[] = [];
  for (let s = 0; s < n; s++) {
    const x: number[][] = [];
    const k: number[][] = [];
    for (let p = 0; p < positions; p++) {
      const xp = Array.from({ length: d }, (_, c) => {
        let v = pb[c];
        for (let ch = 0; ch < C; ch++) v += pw[c * C + ch] * f[(s * C + ch) * positions + p];
        return Math.max(0, v);
      });
      x.push(xp);
      k.push(
        affine(
          xp.map((v, c) => v + pe[c * positions + p]),
          kw,
          kb,
        ),
      );
    }
    let slotState: number[][] = Array.from({ length: slots }, (_, i) =>
      Array.from(w('slots').subarray(i * d, (i + 1) * d)),
    );
    let attn: number[][] = [];
    let updates: number[][] = [];
    for (let t = 1; t <= iterations; t++) {
      const dots = slotState.map((sl) =>
        k.map((kp) => sl.reduce((a, v, c) => a + v * kp[c], 0) / Math.sqrt(d)),
      );
      const total = dots.flat().reduce((a, v) => a + v, 0);
      attn = dots.map((row) => {
        const rowSum = row.reduce((a, v) => a + v, 0);
        return row.map((v) => sig((v / rowSum) * total));
      });
      updates = attn.map((row) =>
        Array.from({ length: d }, (_, c) => row.reduce((a, v, p) => a + v * x[p][c], 0) / d),
      );
      if (t < iterations)
        slotState = slotState.map((hPrev, i) => {
          const u = updates[i];
          const [r, z] = gates.slice(0, 2).map((g) => {
            const a = affine(u, g.wi, g.bi);
            const b = affine(hPrev, g.wh, g.bh);
            return a.map((v, j) => sig(v + b[j]));
          });
          const g = gates[2];
          const a = affine(u, g.wi, g.bi);
          const b = affine(hPrev, g.wh, g.bh);
          const cand = a.map((v, j) => Math.tanh(v + r[j] * b[j]));
          return cand.map((v, j) => (1 - z[j]) * v + z[j] * hPrev[j]);
        });
    }
    for (let c = 0; c < classes; c++) {
      let score = 0;
      const map = new Array(positions).fill(0);
      for (let q = 0; q < spc; q++) {
        score += updates[c * spc + q].reduce((a, v) => a + v, 0);
        attn[c * spc + q].forEach((v, p) => {
          map[p] += v;
        });
      }
      logits.push(lambda * score);
      maps.push(...map);
    }
  }
  return { logits, maps };
}

const input = (n: number, seed: number) =>
  float32(
    new Random(seed).normals(n * C * H * W, 1).map((v) => Math.abs(v) + 0.1),
    [n, C, H, W],
  );
const maxError = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let e = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return e / scale;
};

describe('the SCOUTER head', () => {
  it.each([
    ['SCOUTER+, one slot per class', { lambda: 1 as const, slotsPerClass: 1 }],
    ['SCOUTER−, two slots per class', { lambda: -1 as const, slotsPerClass: 2 }],
  ])('computes the slot attention of the reference equations (%s)', async (_, o) => {
    const h = head(o);
    const m = await load(h.model);
    const x = input(2, 3);
    const out = await m.run(x, { outputs: [h.logits, h.attention] });
    const ref = reference(h.model, h.params, x.data as Float32Array, 2, {
      classes: 3,
      spc: o.slotsPerClass,
      d: 4,
      iterations: 3,
      lambda: o.lambda,
    });
    expect(out[h.attention].dims).toEqual([2, 3, H, W]);
    // float32 against float64 through three attention rounds and two GRU steps: 1e-4 relative
    // is 400× the measured 2.3e-7, and a wrong equation is off by O(1).
    expect(maxError(out[h.logits].data as Float32Array, ref.logits)).toBeLessThan(1e-4);
    expect(maxError(out[h.attention].data as Float32Array, ref.maps)).toBeLessThan(1e-4);
  });

  it('with hand-set weights, attends exactly one region and scores the evidence in it', async () => {
    // Channel 0 of the features is M on a region R and 0 elsewhere. The keys are ±1 (in R / not
    // in R) up to the positional encoding's M-fold smaller share; slot 0 = (β, 0) and slot 1 =
    // (β/2, 0) give each row the sign of the keys and a total of 1.5 rows, so the normalised logits
    // are ±1.5·β/√2 = ±150: attention 1 on R and 0 elsewhere. Class 0's score is then
    // Σ_{p ∈ R} mean_d x(p) = |R|·M/2.
    const M = 1000;
    const region = new Set([0, 1, 5, 6, 11, 17]);
    const h = appendScouterHead(identityBackbone(), 'features', C, [H, W], {
      classes: 2,
      lambda: 1,
      hidden: 2,
      iterations: 1,
    });
    const beta = 100 * Math.SQRT2;
    const set = (suffix: string, values: number[], dims: number[]) =>
      h.model.graph.initializers.set(h.params.find((p) => p.endsWith(suffix))!, float32(values, dims));
    set('proj_w', [1, 0, 0, 0, 0, 0], [2, C, 1, 1]);
    set('proj_b', [0, 0], [2]);
    set('to_k_w', [2 / M, 0, 0, 0], [2, 2]);
    set('to_k_b', [-1, 0], [2]);
    set('slots', [beta, 0, beta / 2, 0], [1, 2, 2]);
    const f = new Float32Array(C * H * W);
    for (const p of region) f[p] = M;
    const out = await (await load(h.model)).run(float32(f, [1, C, H, W]), {
      outputs: [h.logits, h.attention],
    });
    const map = (out[h.attention].data as Float32Array).subarray(0, H * W);
    map.forEach((v, p) => {
      expect(v, `position ${p}`).toBeCloseTo(region.has(p) ? 1 : 0, 6);
    });
    expect((out[h.logits].data as Float32Array)[0]).toBeCloseTo((region.size * M) / 2, 2);
  });

  it('scores a class by the evidence its slot attends to, and λ = −1 flips the sign', async () => {
    const plus = head({ lambda: 1, iterations: 1 });
    const minus = head({ lambda: -1, iterations: 1 });
    const x = input(1, 4);
    const a = await (await load(plus.model)).run(x, { outputs: [plus.logits, plus.attention, 'scouter_x'] });
    const b = await (await load(minus.model)).run(x, { outputs: [minus.logits] });
    const attn = a[plus.attention].data as Float32Array;
    const features = a.scouter_x.data as Float32Array; // [1, d, H, W]
    const positions = H * W;
    for (let c = 0; c < 3; c++) {
      // score_c = Σ_positions A_c(p) · mean_d x(p)
      let expected = 0;
      for (let p = 0; p < positions; p++) {
        let mean = 0;
        for (let ch = 0; ch < 4; ch++) mean += features[ch * positions + p] / 4;
        expected += attn[c * positions + p] * mean;
      }
      expect((a[plus.logits].data as Float32Array)[c]).toBeCloseTo(expected, 5);
      expect((b[minus.logits].data as Float32Array)[c]).toBe(-(a[plus.logits].data as Float32Array)[c]);
    }
  });

  it.each([
    ['the logits', 'logits'],
    ['the area loss', 'scouter_area'],
  ])('has gradients of %s that match finite differences', async (_, objective) => {
    const h = head({ slotsPerClass: 2 });
    const pick = (suffix: string) => h.params.find((p) => p.endsWith(suffix))!;
    const result = await checkGradients(h.model, nodeBackend(), {
      inputShapes: { input: [2, C, H, W] },
      objective,
      wrt: ['input', pick('proj_w'), pick('to_k_w'), pick('gru_z_wh'), pick('gru_n_bi'), pick('slots')],
      samplers: { input: samplers.uniform(0.2, 1.5) },
    });
    for (const c of result.checks)
      expect(
        c.passed,
        `${c.wrt}: analytic ${c.analytic} vs numeric ${c.numeric} ± ${c.standardError} (${result.precision})`,
      ).toBe(true);
  });

  it('reports the area loss as the mean attention', async () => {
    const h = head();
    const m = await load(h.model);
    const out = await m.run(input(2, 5), { outputs: [h.area, 'scouter_attn3'] });
    const attn = out.scouter_attn3.data as Float32Array;
    const mean = attn.reduce((s, v) => s + v, 0) / attn.length;
    expect((out[h.area].data as Float32Array)[0]).toBeCloseTo(mean, 6);
  });

  it.each([
    ['λ not ±1', { lambda: 2 as 1 }, /lambda must be \+1 or -1, got 2/],
    ['slots per class < 1', { slotsPerClass: 0 }, /slots per class must be an integer ≥ 1, got 0/],
    ['an odd hidden width', { hidden: 5 }, /hidden width must be an even integer/],
  ])('refuses %s', (_, o, error) => {
    expect(() => head(o)).toThrow(error);
  });
});

describe('the sine positional encoding', () => {
  it.each([
    [0, 0, 0, Math.sin(1)],
    [1, 2, 3, Math.cos(3)],
    [4, 1, 2, Math.sin(3)],
    [2, 3, 0, Math.sin(4 / 100)],
  ])('channel %i at (%i, %i) is %f', (channel, y, x, value) => {
    // d = 8: channels 0-3 encode the row, 4-7 the column; pairs share 10000^(2⌊i/2⌋/4).
    expect(sinePositionalEncoding(8, 4, 5)[(channel * 4 + y) * 5 + x]).toBeCloseTo(value, 6);
  });
});
