/**
 * What the perturbation metrics share: the substrate removed pixels take, and the target's score
 * over batches of perturbed rows (the explainer's row batching, as occlusion uses it).
 */
import { gaussianBlur } from '../../maths/blur.js';
import { softmax } from '../../maths/softmax.js';
import type { Tensor } from '../../onnx/tensor.js';
import type { Explainer, RowSource } from '../attribution/pipeline.js';
import type { BoundTarget } from '../attribution/target.js';

/** What a removed pixel becomes: 0 in model-input space, the image blurred, or its channel mean. */
export const SUBSTRATES = ['zero', 'blur', 'mean'] as const;
export type Substrate = (typeof SUBSTRATES)[number];

/** The score a curve follows: the target class's softmax probability, or the raw objective (logit). */
export const SCORES = ['probability', 'logit'] as const;
export type Score = (typeof SCORES)[number];

export interface PerturbationOptions {
  /** Default 'probability' (class targets only). */
  score?: Score;
  /** Gaussian σ in pixels of the 'blur' substrate (default: 5% of the shorter side, as RISE's σ = 11 at 224). */
  blurSigma?: number;
  /** Told the rows done of all the call's rows, after each batch. */
  onProgress?: (done: number, total: number) => void;
}

/** The substrate of every sample of an [N, C, H, W] batch. */
export function substrateOf(
  input: Float32Array,
  dims: readonly number[],
  kind: Substrate,
  blurSigma?: number,
): Float32Array {
  const [n, c, h, w] = dims;
  const per = c * h * w;
  if (kind === 'zero') return new Float32Array(input.length);
  const out = new Float32Array(input.length);
  for (let i = 0; i < n; i++) {
    const image = input.subarray(i * per, (i + 1) * per);
    if (kind === 'blur') {
      const sigma = blurSigma ?? 0.05 * Math.min(h, w);
      out.set(gaussianBlur(image, c, h, w, sigma), i * per);
      continue;
    }
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let j = ch * h * w; j < (ch + 1) * h * w; j++) s += image[j];
      out.fill(s / (h * w), i * per + ch * h * w, i * per + (ch + 1) * h * w);
    }
  }
  return out;
}

const substrateCache = new WeakMap<Float32Array, Map<string, Float32Array>>();

/**
 * The substrate of the explainer's batch, computed once per batch, kind and σ (every method's
 * maps are scored against the same images).
 */
export function batchSubstrate(explainer: Explainer, kind: Substrate, blurSigma?: number): Float32Array {
  const x = explainer.input.data as Float32Array;
  const byKind = substrateCache.get(x) ?? new Map<string, Float32Array>();
  substrateCache.set(x, byKind);
  const key = `${kind}:${blurSigma ?? ''}`;
  let base = byKind.get(key);
  if (!base) {
    base = substrateOf(x, explainer.input.dims, kind, blurSigma);
    byKind.set(key, base);
  }
  return base;
}

export function checkSubstrate(kind: string, what = 'substrate'): Substrate {
  if (!(SUBSTRATES as readonly string[]).includes(kind))
    throw new Error(`${what} must be one of ${SUBSTRATES.join(', ')}, got "${kind}"`);
  return kind as Substrate;
}

export function checkScore(kind: string, target: BoundTarget): Score {
  if (!(SCORES as readonly string[]).includes(kind))
    throw new Error(`score must be one of ${SCORES.join(', ')}, got "${kind}"`);
  if (kind === 'probability' && !target.classes)
    throw new Error(`score "probability" needs a class target, not ${target.labels[0]}; use score "logit"`);
  return kind as Score;
}

/** Softmax probability of class `c` in row `row` of a [N, K] logits tensor. */
export function classProbability(logits: Tensor, row: number, c: number): number {
  const k = logits.dims[logits.dims.length - 1];
  return softmax((logits.data as Float32Array).subarray(row * k, (row + 1) * k))[c];
}

/**
 * The target's score on `rows` perturbed rows (row r perturbs sample sampleOf(r)), in the
 * explainer's batches: the softmax probability of the sample's class, or the bound objective.
 */
export async function scoreRows(
  explainer: Explainer,
  target: BoundTarget,
  score: Score,
  rows: number,
  fill: RowSource,
  sampleOf: (row: number) => number,
  progress?: (done: number, total: number) => void,
): Promise<Float64Array> {
  if (score === 'logit') return explainer.objectiveRows(rows, fill, sampleOf, target, progress);
  const classes = target.classes!;
  const values = new Float64Array(rows);
  await explainer.forwardRows(
    rows,
    fill,
    [target.tensor],
    (result, start, count) => {
      const t = result[target.tensor];
      for (let r = 0; r < count; r++)
        values[start + r] = classProbability(t, r, classes[sampleOf(start + r)]);
    },
    progress,
  );
  return values;
}
