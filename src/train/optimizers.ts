/**
 * Optimisers that update float32 parameters in place from their gradients. Weight decay applies
 * to tensors of rank ≥ 2 only (conv and linear weights), not to biases or norm scales.
 */
import type { Model } from '../onnx/model.js';

export interface Parameter {
  name: string;
  dims: number[];
  value: Float32Array;
}

/**
 * Copies of a model's initializers `names` as parameters to update.
 * @example
 * const params = parametersOf(model, trainableParameters(model));
 */
export function parametersOf(model: Model, names: readonly string[]): Parameter[] {
  return names.map((name) => {
    const t = model.graph.initializers.get(name);
    if (!t) throw new Error(`parameter "${name}" is not an initializer of the model`);
    return { name, dims: t.dims, value: Float32Array.from(t.data as Float32Array) };
  });
}

export interface Optimizer {
  /** One update of every parameter from its gradient (same order), at learning rate `lr`. */
  step(params: readonly Parameter[], grads: readonly Float32Array[], lr: number): void;
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay (AdamW): p ← p − lr·wd·p. */
  weightDecay?: number;
}

/**
 * Adam with decoupled weight decay (Kingma & Ba 2015, Algorithm 1; Loshchilov & Hutter 2019):
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε) − lr·wd·p.
 */
export class Adam implements Optimizer {
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private t = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;

  constructor(o: AdamOptions = {}) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
  }

  step(params: readonly Parameter[], grads: readonly Float32Array[], lr: number): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    params.forEach((p, k) => {
      const g = grads[k];
      const m = state(this.m, p);
      const v = state(this.v, p);
      const decay = p.dims.length >= 2 ? lr * this.weightDecay : 0;
      const w = p.value;
      for (let i = 0; i < w.length; i++) {
        m[i] = this.beta1 * m[i] + (1 - this.beta1) * g[i];
        v[i] = this.beta2 * v[i] + (1 - this.beta2) * g[i] * g[i];
        w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + this.epsilon) + decay * w[i];
      }
    });
  }
}

export interface SgdOptions {
  momentum?: number;
  /** L2 weight decay added to the gradient: g ← g + wd·p. */
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * SGD with momentum as PyTorch defines it: g ← g + wd·p; b ← μb + g (b = g at the first step);
 * p ← p − lr·b, or p ← p − lr·(g + μb) with Nesterov.
 */
export class Sgd implements Optimizer {
  private readonly buffers = new Map<string, Float32Array>();
  private started = false;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(o: SgdOptions = {}) {
    this.momentum = o.momentum ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
  }

  step(params: readonly Parameter[], grads: readonly Float32Array[], lr: number): void {
    const first = !this.started;
    this.started = true;
    params.forEach((p, k) => {
      const g = grads[k];
      const b = state(this.buffers, p);
      const wd = p.dims.length >= 2 ? this.weightDecay : 0;
      const w = p.value;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] + wd * w[i];
        b[i] = first ? gi : this.momentum * b[i] + gi;
        w[i] -= lr * (this.nesterov ? gi + this.momentum * b[i] : this.momentum > 0 ? b[i] : gi);
      }
    });
  }
}

function state(map: Map<string, Float32Array>, p: Parameter): Float32Array {
  let s = map.get(p.name);
  if (!s) {
    s = new Float32Array(p.value.length);
    map.set(p.name, s);
  }
  return s;
}

/** Learning rate at `step` of `total`: linear warm-up, then cosine decay to zero (Loshchilov & Hutter 2017). */
export function cosineSchedule(base: number, step: number, total: number, warmup = 0): number {
  if (step < warmup) return (base * (step + 1)) / warmup;
  const progress = (step - warmup) / Math.max(1, total - warmup);
  return 0.5 * base * (1 + Math.cos(Math.PI * Math.min(1, progress)));
}

/**
 * Normalised gradient steps, as DeepDream takes them: p ← p − lr·g / mean|g| (per parameter), so the
 * step size does not depend on the gradient's scale.
 */
export class NormalizedGradient implements Optimizer {
  step(params: readonly Parameter[], grads: readonly Float32Array[], lr: number): void {
    params.forEach((p, k) => {
      const g = grads[k];
      let m = 0;
      for (let i = 0; i < g.length; i++) m += Math.abs(g[i]);
      m /= g.length;
      if (m === 0) return;
      for (let i = 0; i < g.length; i++) p.value[i] -= (lr * g[i]) / m;
    });
  }
}
