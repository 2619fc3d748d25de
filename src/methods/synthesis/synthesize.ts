/**
 * The optimisation loop every synthesis method shares: gradient ascent on an image in pixel space
 * [0, 1] (the card's normalisation is applied on the way into the model), with transforms applied
 * each step (random jitter), regularisers (L2 towards grey, total variation, Gaussian blur every k
 * steps, clipping of pixels with small norm and of pixels with small contribution |x·g|, after
 * Yosinski et al. 2015, §2.1), and a choice of optimisers. Randomness is seeded; a trace of the
 * objective and optional snapshots are kept.
 */
import { normalizeInto, type Preprocessing } from '../../data/preprocess.js';
import { gaussianBlur } from '../../maths/blur.js';
import { Random } from '../../maths/random.js';
import { float32 } from '../../onnx/tensor.js';
import { ConvlensModel, type ObjectiveWeights } from '../../runtime/model.js';
import { Adam, NormalizedGradient, type Optimizer, Sgd } from '../../train/optimizers.js';
import { type BoundTerm, bindObjective, type ObjectiveTerm, termValues } from './objective.js';

export const OPTIMIZERS = ['adam', 'sgd', 'normalized'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface SynthesisOptions {
  steps: number;
  /** Learning rate in pixel units (default 0.05). */
  lr?: number;
  optimizer?: OptimizerName;
  /** Start: pixels [N, C, H, W] in [0, 1], or 'noise' (grey ± 0.1 uniform, seeded) or 'grey' (default 'noise'). */
  init?: Float32Array | 'noise' | 'grey';
  /** Images optimised at once (default 1; with a Float32Array init, its batch). */
  batch?: number;
  /** Random shift of up to this many pixels each step (default 0). */
  jitter?: number;
  /** Weight of −λ‖x − m‖², m the per-channel normalisation mean (L2 decay towards the image that is zero in model-input space). */
  l2?: number;
  /** Weight of −λ·TV(x), TV = mean of squared differences of neighbouring pixels. */
  tv?: number;
  /** Blur the image with σ = blurSigma every `blurEvery` steps (0: never). */
  blurEvery?: number;
  blurSigma?: number;
  /** Reset this percentage of pixels, those with the smallest norm over channels in model-input space, to the mean (0–100, 0: off). */
  clipValue?: number;
  /** Zero the update of this percentage of pixels, those with the smallest contribution |Σ_c x·g| (0–100, 0: off). */
  clipGradient?: number;
  seed?: number;
  /** Keep the image every this many steps (0: never). */
  snapshotEvery?: number;
  onStep?(p: { step: number; steps: number; objective: number }): void;
}

export interface SynthesisResult {
  /** [N, C, H, W] pixels in [0, 1]. */
  pixels: Float32Array;
  dims: number[];
  /** Objective per step (mean over the batch), before that step's update; the last entry is the final image's. */
  trace: { step: number; objective: number; terms: number[] }[];
  snapshots: { step: number; pixels: Float32Array }[];
  ms: number;
}

/** Pixels [N, C, H, W] in [0, 1] → model input, per channel (x − mean) / std. */
export function toModelInput(pixels: Float32Array, p: Preprocessing): Float32Array {
  const per = p.channels * p.size[0] * p.size[1];
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i += per)
    normalizeInto(pixels.subarray(i, i + per), p.channels, p, out, i);
  return out;
}

/** Roll each H×W plane by (dy, dx) with wrap-around; rolling by (−dy, −dx) undoes it. */
export function roll(
  x: Float32Array,
  planes: number,
  h: number,
  w: number,
  dy: number,
  dx: number,
): Float32Array {
  const out = new Float32Array(x.length);
  for (let p = 0; p < planes; p++)
    for (let y = 0; y < h; y++) {
      const sy = (((y - dy) % h) + h) % h;
      for (let xx = 0; xx < w; xx++)
        out[p * h * w + y * w + xx] = x[p * h * w + sy * w + ((((xx - dx) % w) + w) % w)];
    }
  return out;
}

/** Total variation mean((x_{y+1} − x_y)²) + mean((x_{x+1} − x_x)²) over planes, and its gradient. */
export function totalVariation(
  x: Float32Array,
  planes: number,
  h: number,
  w: number,
): { value: number; grad: Float32Array } {
  const grad = new Float32Array(x.length);
  let value = 0;
  const nv = planes * (h - 1) * w;
  const nh = planes * h * (w - 1);
  for (let p = 0; p < planes; p++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        const i = p * h * w + y * w + xx;
        if (y + 1 < h) {
          const d = x[i + w] - x[i];
          value += (d * d) / nv;
          grad[i + w] += (2 * d) / nv;
          grad[i] -= (2 * d) / nv;
        }
        if (xx + 1 < w) {
          const d = x[i + 1] - x[i];
          value += (d * d) / nh;
          grad[i + 1] += (2 * d) / nh;
          grad[i] -= (2 * d) / nh;
        }
      }
  return { value, grad };
}

/** The indices of the round(p% · n) smallest values (ties by index). */
function smallest(values: Float32Array, p: number): number[] {
  const k = Math.round((p / 100) * values.length);
  return Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[a] - values[b] || a - b)
    .slice(0, k);
}

/** Per pixel of each sample, Σ_c f(c); returns N·H·W values. */
function perPixel(n: number, c: number, area: number, f: (i: number) => number): Float32Array {
  const out = new Float32Array(n * area);
  for (let s = 0; s < n; s++)
    for (let ch = 0; ch < c; ch++)
      for (let j = 0; j < area; j++) out[s * area + j] += f((s * c + ch) * area + j);
  return out;
}

/**
 * Maximise the objective over images, starting from `init`.
 *
 * @example
 * ```ts
 * const r = await synthesize(model, card.preprocessing, parseObjective('logit:3', 'logits'), { steps: 200, jitter: 2, l2: 1e-3 });
 * r.trace.at(-1)?.objective; // the final logit
 * ```
 */
export async function synthesize(
  model: ConvlensModel,
  preprocessing: Preprocessing,
  terms: readonly ObjectiveTerm[],
  options: SynthesisOptions,
): Promise<SynthesisResult> {
  const started = performance.now();
  const [h, w] = preprocessing.size;
  const c = preprocessing.channels;
  const area = h * w;
  const steps = options.steps;
  if (!(Number.isInteger(steps) && steps >= 0))
    throw new Error(`steps must be a non-negative integer, got ${steps}`);
  const n = options.init instanceof Float32Array ? options.init.length / (c * area) : (options.batch ?? 1);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(
      `init has ${(options.init as Float32Array).length} values, not a multiple of ${c}×${h}×${w}`,
    );
  const lr = options.lr ?? 0.05;
  for (const [k, v] of Object.entries({
    lr,
    jitter: options.jitter ?? 0,
    l2: options.l2 ?? 0,
    tv: options.tv ?? 0,
  }))
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${k} must be a finite number ≥ 0, got ${v}`);
  for (const [k, v] of Object.entries({
    clipValue: options.clipValue ?? 0,
    clipGradient: options.clipGradient ?? 0,
  }))
    if (!(v >= 0 && v <= 100)) throw new Error(`${k} is a percentile in [0, 100], got ${v}`);
  const rng = new Random(options.seed ?? 0);
  const pixels =
    options.init instanceof Float32Array
      ? Float32Array.from(options.init)
      : Float32Array.from({ length: n * c * area }, () =>
          options.init === 'grey' ? 0.5 : 0.5 + 0.2 * (rng.next() - 0.5),
        );

  const dims = [n, c, h, w];
  const layers = await model.layers([1, c, h, w]);
  const { model: augmented, bound } = bindObjective(
    model.model,
    terms,
    (t) => layers.find((l) => l.tensor === t)?.shape,
    layers.map((l) => l.tensor),
    n,
  );
  const objective = mergeTerms(bound);
  const runner = new ConvlensModel(augmented, model.backend, model.sessionOptions);
  const optimizer: Optimizer =
    options.optimizer === 'sgd'
      ? new Sgd({ momentum: 0.9 })
      : options.optimizer === 'normalized'
        ? new NormalizedGradient()
        : new Adam();
  const param = { name: 'image', dims, value: pixels };
  const stds = Array.from(
    { length: c },
    (_, ch) => preprocessing.std[preprocessing.std.length === 1 ? 0 : ch],
  );
  const means = Array.from(
    { length: c },
    (_, ch) => preprocessing.mean[preprocessing.mean.length === 1 ? 0 : ch],
  );
  const trace: SynthesisResult['trace'] = [];
  const snapshots: SynthesisResult['snapshots'] = [];
  const jitter = Math.floor(options.jitter ?? 0);

  const evaluate = async (x: Float32Array) => {
    const r = await runner.gradients(float32(toModelInput(x, preprocessing), dims), {
      objective,
      outputs: [...new Set(bound.map((b) => b.tensor))],
    });
    const fetched = Object.fromEntries(
      Object.entries(r.outputs).map(([k, t]) => [k, t.data as Float32Array]),
    );
    const values = Array.from({ length: n }, (_, i) => termValues(bound, fetched, i));
    const termsMean = bound.map((_, k) => values.reduce((s, v) => s + v[k], 0) / n);
    return { grad: r.gradients[runner.inputNames[0]].data as Float32Array, terms: termsMean };
  };
  try {
    for (let step = 0; step <= steps; step++) {
      if (options.snapshotEvery && step % options.snapshotEvery === 0)
        snapshots.push({ step, pixels: Float32Array.from(pixels) });
      const dy = jitter ? Math.floor(rng.next() * (2 * jitter + 1)) - jitter : 0;
      const dx = jitter ? Math.floor(rng.next() * (2 * jitter + 1)) - jitter : 0;
      const shifted = dy || dx ? roll(pixels, n * c, h, w, dy, dx) : pixels;
      const e = await evaluate(shifted);
      let value = e.terms.reduce((a, b) => a + b, 0);
      // The last pass only measures the final image.
      if (step === steps) {
        trace.push({ step, objective: value, terms: e.terms });
        break;
      }
      // d/dpixels = d/dinput / std, shifted back.
      let g = e.grad;
      for (let i = 0; i < g.length; i++) g[i] /= stds[Math.floor(i / area) % c];
      if (dy || dx) g = roll(g, n * c, h, w, -dy, -dx);
      if (options.l2) {
        let sq = 0;
        for (let i = 0; i < g.length; i++) {
          const d = pixels[i] - means[Math.floor(i / area) % c];
          g[i] -= 2 * options.l2 * d;
          sq += d * d;
        }
        value -= (options.l2 * sq) / n;
      }
      if (options.tv) {
        const tv = totalVariation(pixels, n * c, h, w);
        for (let i = 0; i < g.length; i++) g[i] -= options.tv * tv.grad[i];
        value -= (options.tv * tv.value) / n;
      }
      trace.push({ step, objective: value, terms: e.terms });
      options.onStep?.({ step, steps, objective: value });
      if (options.clipGradient) {
        const contribution = perPixel(n, c, area, (i) => pixels[i] * g[i]).map(Math.abs);
        for (const at of smallest(contribution, options.clipGradient)) {
          const [s, j] = [Math.floor(at / area), at % area];
          for (let ch = 0; ch < c; ch++) g[(s * c + ch) * area + j] = 0;
        }
      }
      // The optimisers minimise: hand them −g to ascend.
      optimizer.step([param], [g.map((v) => -v)], lr);
      for (let i = 0; i < pixels.length; i++) pixels[i] = Math.min(1, Math.max(0, pixels[i]));
      if (options.blurEvery && (step + 1) % options.blurEvery === 0)
        for (let s = 0; s < n; s++)
          pixels.set(
            gaussianBlur(
              pixels.subarray(s * c * area, (s + 1) * c * area),
              c,
              h,
              w,
              options.blurSigma ?? 0.5,
            ),
            s * c * area,
          );
      if (options.clipValue) {
        const input = toModelInput(pixels, preprocessing);
        const norms = perPixel(n, c, area, (i) => input[i] * input[i]);
        for (const at of smallest(norms, options.clipValue)) {
          const [s, j] = [Math.floor(at / area), at % area];
          for (let ch = 0; ch < c; ch++) pixels[(s * c + ch) * area + j] = means[ch];
        }
      }
    }
  } finally {
    await runner.release();
  }
  return { pixels, dims, trace, snapshots, ms: performance.now() - started };
}

/** Terms on the same tensor with the same power share one seed (their weights add). */
export function mergeTerms(bound: readonly BoundTerm[]): ObjectiveWeights[] {
  const byTensor = new Map<string, ObjectiveWeights>();
  for (const b of bound) {
    const hit = byTensor.get(b.tensor);
    if (!hit) {
      byTensor.set(b.tensor, {
        tensor: b.tensor,
        weights: float32(Float32Array.from(b.weights), b.dims),
        power: b.power,
      });
      continue;
    }
    const w = hit.weights.data as Float32Array;
    for (let i = 0; i < w.length; i++) w[i] += b.weights[i];
  }
  return [...byTensor.values()];
}
