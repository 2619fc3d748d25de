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
  batchSubstrate,
  checkScore,
  checkSubstrate,
  classProbability,
  type PerturbationOptions,
  type Substrate,
  scoreRows,
} from './perturbation.js';
import { checkPlanes, planeAt, type RelevancePlanes } from './planes.js';

/** Hidden pixels become zeros in model-input space by default, exactly L ⊙ x. */
export const CONFIDENCE_SUBSTRATE: Substrate = 'zero';

export interface ConfidenceOptions extends PerturbationOptions {
  /** Default CONFIDENCE_SUBSTRATE. */
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
  const substrate = checkSubstrate(options.substrate ?? CONFIDENCE_SUBSTRATE);
  const score = checkScore(options.score ?? 'probability', target);
  if (score === 'logit')
    throw new Error('average drop is a ratio of confidences and needs score "probability"');
  const area = h * w;
  const per = c * area;
  const x = explainer.input.data as Float32Array;
  const base = substrate === 'zero' ? undefined : batchSubstrate(explainer, substrate, options.blurSigma);
  const weights = Array.from({ length: n }, (_, i) => {
    const plane = planeAt(planes, i);
    let max = 0;
    for (let p = 0; p < area; p++) max = Math.max(max, plane[p]);
    const l = new Float32Array(area);
    if (max > 0) for (let p = 0; p < area; p++) l[p] = Math.max(0, plane[p]) / max;
    return l;
  });
  // Y from the explainer's own forward pass (cached), O from one row per sample.
  const logits = await explainer.activations(target.tensor);
  const original = Array.from({ length: n }, (_, i) => classProbability(logits, i, target.classes![i]));
  const values = await scoreRows(
    explainer,
    target,
    score,
    n,
    (i, out, offset) => {
      const l = weights[i];
      for (let ch = 0; ch < c; ch++) {
        const j = i * per + ch * area;
        const o = offset + ch * area;
        if (base) for (let p = 0; p < area; p++) out[o + p] = base[j + p] + l[p] * (x[j + p] - base[j + p]);
        else for (let p = 0; p < area; p++) out[o + p] = l[p] * x[j + p];
      }
    },
    (i) => i,
    options.onProgress,
  );
  const explained = Array.from(values);
  return { ...confidenceSummary(original, explained), original, explained, params: { substrate, score } };
}

/**
 * Average drop and increase in confidence from Y (`original`) and O (`explained`) per image.
 *
 * @example
 * ```ts
 * confidenceSummary([0.8, 0.5], [0.4, 0.6]); // { averageDrop: 0.25, increase: 0.5 }
 * ```
 */
export function confidenceSummary(
  original: readonly number[],
  explained: readonly number[],
): { averageDrop: number; increase: number } {
  const n = original.length;
  let drop = 0;
  let increase = 0;
  for (let i = 0; i < n; i++) {
    if (original[i] > 0) drop += Math.max(0, original[i] - explained[i]) / original[i];
    if (explained[i] > original[i]) increase++;
  }
  return { averageDrop: drop / n, increase: increase / n };
}
