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
import { applyWarp, similarity, warpAdjoint, warpPlan } from '../../maths/warp.js';
import { nearestNames, tensorNames } from '../../onnx/graph.js';
import { truncate } from '../../onnx/static.js';
import { float32, type Tensor } from '../../onnx/tensor.js';
import { ConvlensModel, type LayerInfo, type ObjectiveWeights } from '../../runtime/model.js';
import { Adam, NormalizedGradient, type Optimizer, Sgd } from '../../train/optimizers.js';
import { type BoundTerm, bindObjective, type ObjectiveTerm, termValues } from './objective.js';
import { type ParameterizationName, parameterize } from './parameterization.js';
import { onnxSpectrum } from './spectrum.js';

export const OPTIMIZERS = ['adam', 'sgd', 'normalized'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface SynthesisOptions {
  steps: number;
  /** Learning rate in pixel units (default 0.05). */
  lr?: number;
  optimizer?: OptimizerName;
  /** Image size (default: the preprocessing size). */
  size?: readonly [number, number];
  /** How the optimiser sees the image (default pixel). */
  param?: ParameterizationName;
  /** Optimise colour in a decorrelated basis (3 channels; default: on for fft). */
  decorrelate?: boolean;
  /** Random pad, scale and rotation each step (with `jitter` as the shift). */
  transforms?: TransformOptions;
  /** Start: pixels [N, C, H, W] in [0, 1] (pixel parameterisation), 'noise' (seeded) or 'grey' (default 'noise'). */
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
export function toModelInput(
  pixels: Float32Array,
  p: Preprocessing,
  size: readonly [number, number] = p.size,
): Float32Array {
  const per = p.channels * size[0] * size[1];
  const out = new Float32Array(pixels.length);
  const sized = { ...p, size: [size[0], size[1]] as [number, number] };
  for (let i = 0; i < pixels.length; i += per)
    normalizeInto(pixels.subarray(i, i + per), p.channels, sized, out, i);
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

/** Random transforms applied to the image before the model sees it, each step (Olah et al. 2017). */
export interface TransformOptions {
  /** Frame the image with this many pixels of the normalisation mean before the other transforms (default 0: edges replicate). */
  pad?: number;
  /** Scale drawn uniformly from [lo, hi] each step. */
  scale?: readonly [number, number];
  /** Rotation drawn uniformly from ±degrees each step. */
  rotate?: number;
}

/**
 * Maximise the objective over images, starting from `init`.
 *
 * The model is cut down to the tensors the objective reads, with a free input size, so a
 * convolutional layer can be optimised at any `size`; objectives on layers that need the model's
 * own input size (a Flatten → Gemm head) need that size.
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
  const [h, w] = options.size ?? preprocessing.size;
  const c = preprocessing.channels;
  const area = h * w;
  const steps = options.steps;
  if (!(Number.isInteger(steps) && steps >= 0))
    throw new Error(`steps must be a non-negative integer, got ${steps}`);
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0))
    throw new Error(`size must be positive integers, got ${h}×${w}`);
  const n = options.init instanceof Float32Array ? options.init.length / (c * area) : (options.batch ?? 1);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(
      `init has ${(options.init as Float32Array).length} values, not a multiple of ${c}×${h}×${w}`,
    );
  const lr = options.lr ?? 0.05;
  const t = options.transforms ?? {};
  for (const [k, v] of Object.entries({
    lr,
    jitter: options.jitter ?? 0,
    l2: options.l2 ?? 0,
    tv: options.tv ?? 0,
    pad: t.pad ?? 0,
    rotate: t.rotate ?? 0,
  }))
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${k} must be a finite number ≥ 0, got ${v}`);
  if (t.scale && !(t.scale.length === 2 && t.scale[0] > 0 && t.scale[1] >= t.scale[0]))
    throw new Error(`scale must be a range [lo, hi] with 0 < lo ≤ hi, got [${t.scale}]`);
  for (const [k, v] of Object.entries({
    clipValue: options.clipValue ?? 0,
    clipGradient: options.clipGradient ?? 0,
  }))
    if (!(v >= 0 && v <= 100)) throw new Error(`${k} is a percentile in [0, 100], got ${v}`);
  const rng = new Random(options.seed ?? 0);
  const dims = [n, c, h, w];
  const spectrum =
    options.param === 'fft' ? onnxSpectrum(h, w, model.backend, model.sessionOptions) : undefined;
  const { param, theta } = parameterize(
    { name: options.param ?? 'pixel', dims: [n, c, h, w], decorrelate: options.decorrelate, spectrum },
    rng,
    options.init,
  );
  const plain = param.name === 'pixel' && !param.decorrelate;
  if (!plain) {
    const pixelOnly = Object.entries({
      blurEvery: options.blurEvery,
      clipValue: options.clipValue,
      clipGradient: options.clipGradient,
    }).filter(([, v]) => v);
    if (pixelOnly.length)
      throw new Error(
        `${pixelOnly.map(([k]) => k).join(', ')} edit pixels directly and need the plain pixel parameterisation (not ${param.name}${param.decorrelate ? ', decorrelated' : ''})`,
      );
  }

  const runner = await objectiveRunner(model, preprocessing, terms, [h, w], n);
  const { bound } = runner;
  const objective = mergeTerms(bound);
  const optimizer: Optimizer =
    options.optimizer === 'sgd'
      ? new Sgd({ momentum: 0.9 })
      : options.optimizer === 'normalized'
        ? new NormalizedGradient()
        : new Adam();
  const parameter = { name: 'image', dims: [theta.length], value: theta };
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
  const affine = Boolean(t.pad || t.scale || t.rotate);
  let pixels = await param.render(theta);

  const evaluate = async (x: Float32Array) => {
    const r = await runner.model.gradients(float32(toModelInput(x, preprocessing, [h, w]), dims), {
      objective,
      outputs: [...new Set(bound.map((b) => b.tensor))],
    });
    const fetched = Object.fromEntries(
      Object.entries(r.outputs).map(([k, v]) => [k, v.data as Float32Array]),
    );
    const values = Array.from({ length: n }, (_, i) => termValues(bound, fetched, i));
    const termsMean = bound.map((_, k) => values.reduce((s, v) => s + v[k], 0) / n);
    return { grad: r.gradients[runner.model.inputNames[0]].data as Float32Array, terms: termsMean };
  };
  try {
    for (let step = 0; step <= steps; step++) {
      if (options.snapshotEvery && step % options.snapshotEvery === 0)
        snapshots.push({ step, pixels: Float32Array.from(pixels) });
      const dy = jitter ? Math.floor(rng.next() * (2 * jitter + 1)) - jitter : 0;
      const dx = jitter ? Math.floor(rng.next() * (2 * jitter + 1)) - jitter : 0;
      // Jitter alone rolls the image (exact); with pad, scale or rotate one bilinear warp does all.
      let seen = pixels;
      let back = (g: Float32Array) => g;
      if (affine) {
        const plan = warpPlan(
          h,
          w,
          h,
          w,
          similarity(h, w, h, w, {
            scale: t.scale ? rng.uniform(t.scale[0], t.scale[1]) : 1,
            degrees: t.rotate ? rng.uniform(-t.rotate, t.rotate) : 0,
            dy,
            dx,
          }),
          t.pad ? 'fill' : 'replicate',
        );
        seen = applyWarp(plan, pixels, n * c, (plane) => means[plane % c]);
        back = (g) => warpAdjoint(plan, g, n * c);
      } else if (dy || dx) {
        seen = roll(pixels, n * c, h, w, dy, dx);
        back = (g) => roll(g, n * c, h, w, -dy, -dx);
      }
      const e = await evaluate(seen);
      let value = e.terms.reduce((a, b) => a + b, 0);
      // The last pass only measures the final image.
      if (step === steps) {
        trace.push({ step, objective: value, terms: e.terms });
        break;
      }
      // d/dpixels = d/dinput / std, taken back through the transform.
      const g = e.grad;
      for (let i = 0; i < g.length; i++) g[i] /= stds[Math.floor(i / area) % c];
      const gx = back(g);
      if (options.l2) {
        let sq = 0;
        for (let i = 0; i < gx.length; i++) {
          const d = pixels[i] - means[Math.floor(i / area) % c];
          gx[i] -= 2 * options.l2 * d;
          sq += d * d;
        }
        value -= (options.l2 * sq) / n;
      }
      if (options.tv) {
        const tv = totalVariation(pixels, n * c, h, w);
        for (let i = 0; i < gx.length; i++) gx[i] -= options.tv * tv.grad[i];
        value -= (options.tv * tv.value) / n;
      }
      trace.push({ step, objective: value, terms: e.terms });
      options.onStep?.({ step, steps, objective: value });
      if (options.clipGradient) {
        const contribution = perPixel(n, c, area, (i) => pixels[i] * gx[i]).map(Math.abs);
        for (const at of smallest(contribution, options.clipGradient)) {
          const [s, j] = [Math.floor(at / area), at % area];
          for (let ch = 0; ch < c; ch++) gx[(s * c + ch) * area + j] = 0;
        }
      }
      // The optimisers minimise: hand them −dL/dθ to ascend.
      optimizer.step([parameter], [(await param.backward(theta, pixels, gx)).map((v) => -v)], lr);
      param.project(theta);
      // The plain pixel parameterisation's θ is the image: blur and clipping edit it in place.
      if (options.blurEvery && (step + 1) % options.blurEvery === 0)
        for (let s = 0; s < n; s++)
          theta.set(
            gaussianBlur(theta.subarray(s * c * area, (s + 1) * c * area), c, h, w, options.blurSigma ?? 0.5),
            s * c * area,
          );
      if (options.clipValue) {
        const input = toModelInput(theta, preprocessing, [h, w]);
        const norms = perPixel(n, c, area, (i) => input[i] * input[i]);
        for (const at of smallest(norms, options.clipValue)) {
          const [s, j] = [Math.floor(at / area), at % area];
          for (let ch = 0; ch < c; ch++) theta[(s * c + ch) * area + j] = means[ch];
        }
      }
      pixels = await param.render(theta);
    }
  } finally {
    await runner.model.release();
    await spectrum?.release();
  }
  return { pixels: Float32Array.from(pixels), dims, trace, snapshots, ms: performance.now() - started };
}

/**
 * The model cut down to what the terms read, with the terms' nodes appended, ready to run at
 * `size`; names layers that do not exist, and layers whose shape needs another input size.
 */
export async function objectiveRunner(
  model: ConvlensModel,
  preprocessing: Preprocessing,
  terms: readonly ObjectiveTerm[],
  size: readonly [number, number],
  n: number,
): Promise<{ model: ConvlensModel; bound: BoundTerm[] }> {
  const c = preprocessing.channels;
  const names = tensorNames(model.model.graph);
  const wanted = [...new Set(terms.map((term) => term.kind.tensor))];
  for (const term of terms)
    if (!names.includes(term.kind.tensor))
      throw new Error(
        `objective "${term.label}": layer "${term.kind.tensor}" not found; nearest: ${nearestNames(term.kind.tensor, names, 5).join(', ')}`,
      );
  const cut = new ConvlensModel(truncate(model.model, wanted), model.backend, model.sessionOptions);
  const shape = [1, c, size[0], size[1]];
  const ownSize = size[0] === preprocessing.size[0] && size[1] === preprocessing.size[1];
  let layers: LayerInfo[];
  try {
    // At the model's own size its shapes are cached across calls; other sizes need the cut model.
    layers = await (ownSize ? model : cut).layers(shape);
  } catch (e) {
    throw new Error(
      `the objective's layers (${wanted.join(', ')}) cannot be computed at ${size[0]}×${size[1]}; layers after a fixed-size head need the model's input size ${preprocessing.size.join('×')}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  const { model: augmented, bound } = bindObjective(
    cut.model,
    terms,
    (tensor) => layers.find((l) => l.tensor === tensor)?.shape,
    layers.map((l) => l.tensor),
    n,
  );
  return { model: new ConvlensModel(augmented, model.backend, model.sessionOptions), bound };
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
    const w = (hit.weights as Tensor).data as Float32Array;
    for (let i = 0; i < w.length; i++) w[i] += b.weights[i];
  }
  return [...byTensor.values()];
}

/**
 * The named layers' activations for pixels [N, C, H, W] in [0, 1] of any size the layers allow
 * (the targets of inversion, texture and style terms).
 */
export async function activationsAt(
  model: ConvlensModel,
  preprocessing: Preprocessing,
  pixels: Float32Array,
  size: readonly [number, number],
  layers: readonly string[],
): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const terms = layers.map<ObjectiveTerm>((l) => ({
    label: l,
    scale: 1,
    kind: { type: 'dream', tensor: l },
  }));
  const c = preprocessing.channels;
  const n = pixels.length / (c * size[0] * size[1]);
  const { model: runner } = await objectiveRunner(model, preprocessing, terms, size, n);
  try {
    const out = await runner.run(
      float32(toModelInput(pixels, preprocessing, size), [n, c, size[0], size[1]]),
      {
        outputs: [...layers],
      },
    );
    return Object.fromEntries(
      layers.map((l) => [l, { data: out[l].data as Float32Array, dims: out[l].dims }]),
    );
  } finally {
    await runner.release();
  }
}
