/**
 * Average drop and increase in confidence (Chattopadhyay et al. 2018, "Grad-CAM++", §5.1): the
 * image is seen only through the explanation, E = L ⊙ I with L the map clipped at 0 and divided by
 * its max (L ∈ [0, 1]); pixels it hides take the substrate, x' = L·x + (1 − L)·s (with the zero
 * substrate, exactly L ⊙ x in model-input space). With Y the score on x and O the score on x',
 * average drop = mean of max(0, Y − O) / Y (lower is better) and increase in confidence = the
 * fraction of images where O > Y (higher is better).
 */
import type { Explainer } from '../attribution/pipeline.js';
import type { BoundTarget } from '../attribution/target.js';
import {
  checkScore,
  checkSubstrate,
  type PerturbationOptions,
  type Substrate,
  scoreRows,
  substrateOf,
} from './perturbation.js';
import { checkPlanes, planeAt, type RelevancePlanes } from './planes.js';

export interface ConfidenceOptions extends PerturbationOptions {
  /** Default 'zero'. */
  substrate?: Substrate;
}

export interface ConfidenceChange {
  /** Mean over images of max(0, Y − O) / Y, in [0, 1]. */
  averageDrop: number;
  /** Fraction of images with O > Y. */
  increase: number;
  /** Y and O per image. */
  original: number[];
  explained: number[];
  params: { substrate: Substrate; score: string };
}

/**
 * @example
 * ```ts
 * const { averageDrop, increase } = await confidenceChange(explainer, target, planes);
 * ```
 */
export async function confidenceChange(
  explainer: Explainer,
  target: BoundTarget,
  planes: RelevancePlanes,
  options: ConfidenceOptions = {},
): Promise<ConfidenceChange> {
  const [n, c, h, w] = explainer.input.dims;
  checkPlanes(planes, n, h, w);
  const substrate = checkSubstrate(options.substrate ?? 'zero');
  const score = checkScore(options.score ?? 'probability', target);
  if (score === 'logit')
    throw new Error('average drop is a ratio of confidences and needs score "probability"');
  const area = h * w;
  const per = c * area;
  const x = explainer.input.data as Float32Array;
  const base = substrateOf(x, explainer.input.dims, substrate, options.blurSigma);
  const weights = Array.from({ length: n }, (_, i) => {
    const plane = planeAt(planes, i);
    let max = 0;
    for (const v of plane) max = Math.max(max, v);
    return Float32Array.from(plane, (v) => (max > 0 ? Math.max(0, v) / max : 0));
  });
  // Row i: sample i; row n + i: sample i seen through its map.
  const sampleOf = (r: number) => r % n;
  const values = await scoreRows(
    explainer,
    target,
    score,
    2 * n,
    (r, out, offset) => {
      const i = sampleOf(r);
      if (r < n) {
        out.set(x.subarray(i * per, (i + 1) * per), offset);
        return;
      }
      const l = weights[i];
      for (let ch = 0; ch < c; ch++)
        for (let p = 0; p < area; p++) {
          const j = i * per + ch * area + p;
          out[offset + ch * area + p] = l[p] * x[j] + (1 - l[p]) * base[j];
        }
    },
    sampleOf,
  );
  const original = Array.from(values.subarray(0, n));
  const explained = Array.from(values.subarray(n));
  let drop = 0;
  let increase = 0;
  for (let i = 0; i < n; i++) {
    if (original[i] > 0) drop += Math.max(0, original[i] - explained[i]) / original[i];
    if (explained[i] > original[i]) increase++;
  }
  return {
    averageDrop: drop / n,
    increase: increase / n,
    original,
    explained,
    params: { substrate, score },
  };
}
