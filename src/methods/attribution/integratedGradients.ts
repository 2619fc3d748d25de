/**
 * Integrated Gradients: (x − x') ⊙ ∫₀¹ ∇f(x' + α(x − x')) dα, here by the midpoint rule with
 * `steps` points, batched (Sundararajan et al. 2017, eq. 1 and §5 eq. 3). Completeness (their
 * Proposition 1: Σ attributions = f(x) − f(x')) is checked and its gap reported as `delta`.
 */
import { gaussianBlur } from '../../maths/blur.js';
import { type AttributionMethod, checkInteger, checkNumber } from './method.js';
import type { MethodRun } from './pipeline.js';

export const IG_BASELINES = ['zero', 'blur'] as const;

export interface IntegratedGradientsParams {
  steps: number;
  /** 'zero' (the zero input tensor), 'blur' (a Gaussian blur of the input), or a custom [C, H, W] or [N, C, H, W] array. */
  baseline: (typeof IG_BASELINES)[number] | Float32Array;
  /** σ of the blur baseline, in pixels. */
  blurSigma: number;
}

export const integratedGradients: AttributionMethod<IntegratedGradientsParams> = {
  name: 'ig',
  title: 'Integrated Gradients',
  reference: 'Sundararajan, Taly & Yan 2017, eq. 1, eq. 3',
  resolution: 'input',
  needsLayer: false,
  defaults: { steps: 64, baseline: 'zero', blurSigma: 5 },
  validate(p) {
    checkInteger('ig', 'steps', p.steps, 1, 100000);
    checkNumber('ig', 'blurSigma', p.blurSigma, 0);
    if (!(p.baseline instanceof Float32Array) && !IG_BASELINES.includes(p.baseline))
      throw new Error(
        `ig: baseline "${String(p.baseline)}" is not one of ${IG_BASELINES.join(', ')} or an array`,
      );
  },
  async run(run: MethodRun, p) {
    const e = run.explainer;
    const [n, c, h, w] = run.input.dims;
    const per = e.rowSize;
    const x = run.input.data as Float32Array;
    const baseline = baselineFor(x, n, c, h, w, p);
    const alpha = (k: number) => (k + 0.5) / p.steps;
    const r = await e.gradientRows(
      n * p.steps,
      (row, out, offset) => {
        const i = Math.floor(row / p.steps);
        const a = alpha(row % p.steps);
        for (let j = 0; j < per; j++) {
          const b = baseline[i * per + j];
          out[offset + j] = b + a * (x[i * per + j] - b);
        }
      },
      (row) => Math.floor(row / p.steps),
      run.target,
      { wrt: [e.inputName] },
      run.progress,
    );
    const g = r.gradients[e.inputName];
    const data = new Float32Array(n * per);
    for (let row = 0; row < n * p.steps; row++) {
      const i = Math.floor(row / p.steps);
      for (let j = 0; j < per; j++) data[i * per + j] += g[row * per + j];
    }
    for (let i = 0; i < n * per; i++) data[i] *= (x[i] - baseline[i]) / p.steps;
    // f(x) and f(x') for the completeness check: rows 0..n−1 are x, rows n..2n−1 the baselines.
    const ends = await e.objectiveRows(
      2 * n,
      (row, out, offset) =>
        out.set((row < n ? x : baseline).subarray((row % n) * per, ((row % n) + 1) * per), offset),
      (row) => row % n,
      run.target,
    );
    const delta: number[] = [];
    const relative: number[] = [];
    const fx: number[] = [];
    const fb: number[] = [];
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = i * per; j < (i + 1) * per; j++) sum += data[j];
      const diff = ends[i] - ends[n + i];
      fx.push(ends[i]);
      fb.push(ends[n + i]);
      delta.push(diff - sum);
      relative.push(Math.abs(diff - sum) / Math.max(Math.abs(diff), 1e-12));
    }
    const kind = p.baseline instanceof Float32Array ? 'custom' : p.baseline;
    return {
      data,
      dims: [...run.input.dims],
      // The baseline by kind (a custom array's values are the caller's); σ only for the blur.
      params: { baseline: kind, blurSigma: kind === 'blur' ? p.blurSigma : undefined, rule: 'midpoint' },
      diagnostics: { delta, relativeDelta: relative, target: fx, baselineTarget: fb },
    };
  },
};

function baselineFor(
  x: Float32Array,
  n: number,
  c: number,
  h: number,
  w: number,
  p: IntegratedGradientsParams,
): Float32Array {
  const per = c * h * w;
  if (p.baseline instanceof Float32Array) {
    if (p.baseline.length === per) {
      const out = new Float32Array(n * per);
      for (let i = 0; i < n; i++) out.set(p.baseline, i * per);
      return out;
    }
    if (p.baseline.length === n * per) return p.baseline;
    throw new Error(
      `ig: the custom baseline has ${p.baseline.length} values; expected C·H·W = ${per} or N·C·H·W = ${n * per}`,
    );
  }
  if (p.baseline === 'zero') return new Float32Array(n * per);
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++)
    out.set(gaussianBlur(x.subarray(i * per, (i + 1) * per), c, h, w, p.blurSigma), i * per);
  return out;
}
