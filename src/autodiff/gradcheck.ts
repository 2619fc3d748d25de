/**
 * Finite-difference checks of gradient graphs (as JAX's check_grads and onnxruntime's
 * GradientChecker do): the analytic directional derivative ⟨∇f, v⟩ along random directions v is
 * compared with a central-difference estimate of (f(x + hv) − f(x − hv)) / 2h, f = Σ w·y.
 * The forward runs in float64 when onnxruntime has double kernels for every op; otherwise in
 * float32 with float64 accumulation and Richardson extrapolation (error O(h⁴)), with
 * steps large enough (h = 0.05) that float32 rounding stays below 1e-4 relative: samplers keep
 * inputs further than that from kinks.
 */
import { Random } from '../maths/random.js';
import { cloneModel, encodeModel, liftToInputs, type Model } from '../onnx/model.js';
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
   * Finite-difference step along the unit direction (default 1e-6 in float64, 0.05 in float32).
   * Whole networks want smaller steps so that no ReLU or max-pool kink is crossed.
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
}

export interface GradientCheckResult {
  precision: 'float64' | 'float32';
  checks: DirectionCheck[];
  maxRelativeError: number;
  /** The analytic gradients, by wrt tensor. */
  gradients: Record<string, Tensor>;
}

/** The same model computing in float64 (inputs, initializers, outputs, Cast targets, tensor attributes). */
function toFloat64(model: Model): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const asDouble = (t: Tensor): Tensor =>
    t.dtype === 'float32'
      ? { dtype: 'float64', dims: t.dims, data: Float64Array.from(t.data as Float32Array) }
      : t;
  for (const [k, t] of g.initializers) g.initializers.set(k, asDouble(t));
  for (const v of [...g.inputs, ...g.outputs]) if (v.dtype === 'float32') v.dtype = 'float64';
  g.valueInfo = new Map();
  for (const n of g.nodes) {
    for (const [k, a] of Object.entries(n.attrs)) {
      if (a.type === 'int' && n.opType === 'Cast' && k === 'to' && a.value === 1)
        n.attrs[k] = { type: 'int', value: 11 };
      if (a.type === 'tensor') n.attrs[k] = { type: 'tensor', value: asDouble(a.value) };
    }
  }
  return m;
}

const l2 = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
};

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
    session = await backend.createSession(encodeModel(toFloat64(forward)).bytes, options.session);
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
      const numeric =
        precision === 'float64'
          ? await central(w, v, options.step ?? 1e-6)
          : (4 * (await central(w, v, (options.step ?? 0.05) / 2)) -
              (await central(w, v, options.step ?? 0.05))) /
            3;
      const gradNorm = l2(grad);
      const scale = Math.max(Math.abs(analytic), Math.abs(numeric), 1e-3 * gradNorm, 1e-6);
      checks.push({
        wrt: w,
        direction,
        analytic,
        numeric,
        relativeError: Math.abs(analytic - numeric) / scale,
      });
    }
  }
  await session.release();
  return { precision, checks, maxRelativeError: Math.max(...checks.map((c) => c.relativeError)), gradients };
}
