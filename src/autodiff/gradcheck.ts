/**
 * Finite-difference checks of gradient graphs (as JAX's check_grads and onnxruntime's
 * GradientChecker do): the analytic directional derivative ⟨∇f, v⟩ along random directions v is
 * compared with a numeric estimate of f'(0) along v, f = Σ w·y.
 *
 * The forward runs in float64 when onnxruntime has double kernels for every op: a central
 * difference (f(x + hv) − f(x − hv)) / 2h at h = 1e-6. Otherwise (Conv has no double kernel) it
 * runs in float32 and the estimate carries its own error bar: the odd part
 * d(t) = (f(x + tv) − f(x − tv)) / 2 = c₁t + c₃t³ + O(t⁵) is sampled at t = h·j/m, j = 1…m, and
 * c₁, c₃ are fitted by least squares; the residuals measure the float32 rounding noise of f on
 * this machine (and any kink crossed), and the standard error of c₁ follows from them. A check
 * then passes when |analytic − numeric| is within a multiple of that standard error, a bound that
 * moves with each CPU's rounding instead of one tuned on a single machine.
 */
import { Random } from '../maths/random.js';
import { toFloat64 } from '../onnx/float64.js';
import { encodeModel, liftToInputs, type Model } from '../onnx/model.js';
import { type InputShapes, makeStatic } from '../onnx/static.js';
import { elementCount, type Tensor } from '../onnx/tensor.js';
import type { InferenceBackend, InferenceSession, SessionOptions } from '../runtime/backend.js';
import { buildGradientGraph, gradName, seedName } from './engine.js';
import type { ReluRule } from './rule.js';

/** Draws n input values. Keep samples away from kinks (ReLU at 0, MaxPool ties) for exact checks. */
export type Sampler = (rng: Random, n: number) => Float32Array;

export const samplers = {
  normal: ((rng, n) => rng.normals(n)) as Sampler,
  /** |x| in [0.2, 2], random sign: away from the kinks of ReLU-family ops and Abs. */
  awayFromZero: ((rng, n) =>
    Float32Array.from({ length: n }, () => (rng.next() < 0.5 ? -1 : 1) * rng.uniform(0.2, 2))) as Sampler,
  positive: ((rng, n) => Float32Array.from({ length: n }, () => rng.uniform(0.5, 2))) as Sampler,
  uniform:
    (lo: number, hi: number): Sampler =>
    (rng, n) =>
      Float32Array.from({ length: n }, () => rng.uniform(lo, hi)),
  /** Distinct values (a shuffled grid plus jitter): no ties for MaxPool/ReduceMax. */
  distinct: ((rng, n) => {
    const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05 + rng.uniform(0, 0.01));
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [v[i], v[j]] = [v[j], v[i]];
    }
    return v;
  }) as Sampler,
};

export interface GradientCheckOptions {
  inputShapes: InputShapes;
  /** Tensors to check (default: every float32 graph input). Initializers are allowed. */
  wrt?: string[];
  /** Objective tensor (default: the first graph output). */
  objective?: string;
  samplers?: Record<string, Sampler>;
  reluRule?: ReluRule;
  directions?: number;
  seed?: number;
  /**
   * Largest finite-difference step of the float32 fit along the unit direction (default 0.05;
   * float64 runs always take 1e-6). Whole networks want smaller steps so that fewer ReLU or
   * max-pool kinks are crossed.
   */
  step?: number;
  /**
   * Also check along the analytic gradient itself (derivative ‖g‖, the largest possible signal):
   * on whole float32 networks a random direction's derivative (≈ ‖g‖/√n) drowns in rounding noise.
   */
  alongGradient?: boolean;
  /** Threads and execution providers of the gradient and forward sessions. */
  session?: SessionOptions;
}

export interface DirectionCheck {
  wrt: string;
  direction: 'random' | 'gradient';
  analytic: number;
  numeric: number;
  relativeError: number;
  /**
   * Standard error of `numeric` estimated from the residuals of the float32 fit (0 in float64,
   * where rounding sits far below the analytic gradient's own float32 error).
   */
  standardError: number;
  /**
   * The largest |analytic − numeric| that passes: the analytic gradient's own float32 error
   * (ANALYTIC_RELATIVE_ERROR of the scale) plus NOISE_MULTIPLE standard errors of the estimate.
   */
  tolerance: number;
  passed: boolean;
}

/**
 * Relative error allowed to the float32 analytic gradient: whole reference networks measure
 * 1e-6 to 4e-6 against float64 finite differences, single ops 1e-7; 1e-4 is about 800 float32
 * ulps, far above any CPU's rounding and far below the O(1) errors of a wrong rule.
 */
export const ANALYTIC_RELATIVE_ERROR = 1e-4;
/**
 * Standard errors of the float32 estimate allowed (t with FIT_POINTS − 2 = 10 dof:
 * P(|t| > 6) ≈ 1.3e-4 per check).
 */
export const NOISE_MULTIPLE = 6;

export interface GradientCheckResult {
  precision: 'float64' | 'float32';
  checks: DirectionCheck[];
  maxRelativeError: number;
  /** The analytic gradients, by wrt tensor. */
  gradients: Record<string, Tensor>;
}

const l2 = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
};

/** Points of the float32 fit: 2·FIT_POINTS forward runs per direction, FIT_POINTS − 2 residual dof. */
const FIT_POINTS = 12;

/**
 * Least-squares fit of d(t) = c₁t + c₃t³ and the standard error of c₁ from its residuals
 * (ordinary least squares: Var(c₁) = s²·[(XᵀX)⁻¹]₁₁, s² = RSS / (m − 2)).
 */
export function oddSlope(
  t: readonly number[],
  d: readonly number[],
): { slope: number; standardError: number } {
  let s2 = 0;
  let s4 = 0;
  let s6 = 0;
  let b1 = 0;
  let b3 = 0;
  for (let i = 0; i < t.length; i++) {
    const t2 = t[i] * t[i];
    s2 += t2;
    s4 += t2 * t2;
    s6 += t2 * t2 * t2;
    b1 += t[i] * d[i];
    b3 += t2 * t[i] * d[i];
  }
  const det = s2 * s6 - s4 * s4;
  const c1 = (s6 * b1 - s4 * b3) / det;
  const c3 = (s2 * b3 - s4 * b1) / det;
  let rss = 0;
  for (let i = 0; i < t.length; i++) rss += (d[i] - c1 * t[i] - c3 * t[i] ** 3) ** 2;
  const variance = rss / (t.length - 2);
  return { slope: c1, standardError: Math.sqrt((variance * s6) / det) };
}

/** Check the gradient graph of `model` against finite differences. */
export async function checkGradients(
  model: Model,
  backend: InferenceBackend,
  options: GradientCheckOptions,
): Promise<GradientCheckResult> {
  const rng = new Random(options.seed ?? 7);
  const s = await makeStatic(model, options.inputShapes, backend);
  const g = s.model.graph;
  const objective = options.objective ?? g.outputs[0].name;
  const wrt = options.wrt ?? g.inputs.filter((i) => i.dtype === 'float32').map((i) => i.name);

  const feeds: Record<string, Tensor> = {};
  for (const input of g.inputs) {
    const dims = s.types.get(input.name)!.dims;
    const sampler = options.samplers?.[input.name] ?? samplers.normal;
    feeds[input.name] = { dtype: 'float32', dims, data: sampler(rng, elementCount(dims)) };
  }
  const objDims = s.types.get(objective)!.dims;
  const weights: Tensor = { dtype: 'float32', dims: objDims, data: rng.normals(elementCount(objDims)) };

  const gradModel = buildGradientGraph(s, {
    objective: [{ tensor: objective, weights: 'feed' }],
    wrt,
    outputs: [objective],
    reluRule: options.reluRule,
  });
  const gradSession = await backend.createSession(encodeModel(gradModel).bytes, options.session);
  const result = await gradSession.run({ ...feeds, [seedName(objective)]: weights }, wrt.map(gradName));
  await gradSession.release();
  const gradients = Object.fromEntries(wrt.map((w) => [w, result[gradName(w)]]));

  // Forward model for the finite differences: wrt initializers become inputs.
  let precision: 'float64' | 'float32' = 'float64';
  const forward = liftToInputs(s.model, wrt);
  forward.graph.outputs = [{ name: objective }];
  let session: InferenceSession;
  try {
    // onnxruntime's graph optimisations rewrite double chains lossily (the Erf series loses 1e-2 at
    // x = 5 with them): the float64 reference runs the graph as written.
    session = await backend.createSession(encodeModel(toFloat64(forward, s.types)).bytes, {
      ...options.session,
      graphOptimization: 'disabled',
    });
  } catch {
    precision = 'float32';
    session = await backend.createSession(encodeModel(forward).bytes, options.session);
  }
  const base: Record<string, Float64Array> = {};
  for (const w of wrt) {
    const src = feeds[w] ?? g.initializers.get(w)!;
    base[w] = Float64Array.from(src.data as Float32Array);
  }
  const evaluate = async (w: string, v: Float64Array, h: number): Promise<number> => {
    const run: Record<string, Tensor> = {};
    for (const name of [...Object.keys(feeds), ...wrt.filter((x) => !feeds[x])]) {
      const values = Float64Array.from(base[name] ?? (feeds[name].data as Float32Array));
      if (name === w) for (let i = 0; i < values.length; i++) values[i] += h * v[i];
      const dims = (feeds[name] ?? g.initializers.get(name)!).dims;
      run[name] =
        precision === 'float64'
          ? { dtype: 'float64', dims, data: values }
          : { dtype: 'float32', dims, data: Float32Array.from(values) };
    }
    const y = (await session.run(run))[objective].data as Float32Array | Float64Array;
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += (weights.data as Float32Array)[i] * y[i];
    return sum;
  };
  const central = async (w: string, v: Float64Array, h: number) =>
    ((await evaluate(w, v, h)) - (await evaluate(w, v, -h))) / (2 * h);
  const fitted = async (w: string, v: Float64Array, h: number) => {
    const t: number[] = [];
    const d: number[] = [];
    for (let j = 1; j <= FIT_POINTS; j++) {
      const tj = (h * j) / FIT_POINTS;
      t.push(tj);
      d.push(((await evaluate(w, v, tj)) - (await evaluate(w, v, -tj))) / 2);
    }
    return oddSlope(t, d);
  };

  const checks: DirectionCheck[] = [];
  for (const w of wrt) {
    const grad = gradients[w].data as Float32Array;
    const n = grad.length;
    const directions = (options.directions ?? 3) + (options.alongGradient ? 1 : 0);
    for (let d = 0; d < directions; d++) {
      const direction = options.alongGradient && d === 0 ? 'gradient' : 'random';
      const v = direction === 'gradient' ? Float64Array.from(grad) : Float64Array.from(rng.normals(n));
      const norm = l2(v);
      for (let i = 0; i < n; i++) v[i] /= norm;
      let analytic = 0;
      for (let i = 0; i < n; i++) analytic += grad[i] * v[i];
      const { slope: numeric, standardError } =
        precision === 'float64'
          ? { slope: await central(w, v, 1e-6), standardError: 0 }
          : await fitted(w, v, options.step ?? 0.05);
      const gradNorm = l2(grad);
      const scale = Math.max(Math.abs(analytic), Math.abs(numeric), 1e-3 * gradNorm, 1e-6);
      const tolerance = ANALYTIC_RELATIVE_ERROR * scale + NOISE_MULTIPLE * standardError;
      checks.push({
        wrt: w,
        direction,
        analytic,
        numeric,
        relativeError: Math.abs(analytic - numeric) / scale,
        standardError,
        tolerance,
        passed: Math.abs(analytic - numeric) <= tolerance,
      });
    }
  }
  await session.release();
  return { precision, checks, maxRelativeError: Math.max(...checks.map((c) => c.relativeError)), gradients };
}
