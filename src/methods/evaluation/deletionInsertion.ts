/**
 * Deletion and insertion (Petsiuk, Das & Saenko 2018, "RISE", §4.1): pixels are removed from the
 * image (deletion) or added to the substrate (insertion), most relevant first, `step` at a time;
 * the target's score is recorded after every step. A faithful map makes the deletion curve fall
 * fast (low AUC) and the insertion curve rise fast (high AUC). AUC is the trapezoidal area over
 * the fraction of pixels changed, in [0, 1] on that axis.
 */
import { Random } from '../../maths/random.js';
import type { Explainer } from '../attribution/pipeline.js';
import type { BoundTarget } from '../attribution/target.js';
import {
  batchSubstrate,
  checkScore,
  checkSubstrate,
  type PerturbationOptions,
  type Substrate,
  scoreRows,
} from './perturbation.js';
import { checkPlanes, planeAt, type RelevancePlanes, rankPixels } from './planes.js';

export type CurveKind = 'deletion' | 'insertion';

/** Pixels changed per step by default: 2% of the image. */
export const DEFAULT_STEP = 0.02;
/** RISE's substrates: deletion replaces pixels with zeros, insertion starts from the image blurred. */
export const DEFAULT_SUBSTRATE: Record<CurveKind, Substrate> = { deletion: 'zero', insertion: 'blur' };

export interface CurveOptions extends PerturbationOptions {
  /** Pixels changed per step: an integer ≥ 1 in pixels, or a fraction in (0, 1) of all pixels (default 0.02). */
  step?: number;
  /** Default: 'zero' for deletion, 'blur' for insertion (RISE's choices). */
  substrate?: Substrate;
  /** Seed of the random order among tied pixels (default 0). */
  seed?: number;
}

export interface Curves {
  kind: CurveKind;
  /** Fraction of pixels changed at each point, from 0 to 1. */
  fractions: number[];
  /** Score per sample per point, [N × points]. */
  scores: Float64Array;
  /** Area under each sample's curve. */
  auc: number[];
  params: { step: number; substrate: Substrate; score: string };
}

/**
 * Pixels per step for an image of `pixels` pixels; throws naming the allowed range.
 *
 * @example
 * ```ts
 * stepPixels(0.02, 64 * 64); // 82
 * ```
 */
export function stepPixels(step: number, pixels: number): number {
  if (!(step > 0) || !Number.isFinite(step) || (step >= 1 && !Number.isInteger(step)) || step > pixels)
    throw new Error(
      `step must be a fraction in (0, 1) or a whole number of pixels in [1, ${pixels}], got ${step}`,
    );
  return step < 1 ? Math.max(1, Math.round(step * pixels)) : step;
}

/**
 * The trapezoidal area under y over x.
 *
 * @example
 * ```ts
 * trapezoid([0, 0.5, 1], [1, 0.5, 0]); // 0.5
 * ```
 */
export function trapezoid(x: readonly number[], y: ArrayLike<number>): number {
  let s = 0;
  for (let k = 1; k < x.length; k++) s += ((x[k] - x[k - 1]) * (y[k] + y[k - 1])) / 2;
  return s;
}

/**
 * Deletion or insertion curves of maps over the explainer's images.
 *
 * @example
 * ```ts
 * const explainer = new Explainer(model, x);
 * const target = await explainer.bind({ kind: 'top' });
 * const planes = planesOf((await explain(explainer, { methods: ['gradcam'] })).maps[0], 64, 64);
 * const { auc } = await perturbationCurves(explainer, target, planes, 'deletion', { step: 0.02 });
 * ```
 */
export async function perturbationCurves(
  explainer: Explainer,
  target: BoundTarget,
  planes: RelevancePlanes,
  kind: CurveKind,
  options: CurveOptions = {},
): Promise<Curves> {
  const [n, c, h, w] = explainer.input.dims;
  checkPlanes(planes, n, h, w);
  const area = h * w;
  const step = stepPixels(options.step ?? DEFAULT_STEP, area);
  const substrate = checkSubstrate(options.substrate ?? DEFAULT_SUBSTRATE[kind]);
  const score = checkScore(options.score ?? 'probability', target);
  const x = explainer.input.data as Float32Array;
  const base = batchSubstrate(explainer, substrate, options.blurSigma);
  const orders = Array.from({ length: n }, (_, i) =>
    rankPixels(planeAt(planes, i), new Random(explainer.sampleSeed(i, options.seed ?? 0))),
  );
  const counts: number[] = [];
  for (let k = 0; k < area; k += step) counts.push(k);
  counts.push(area);
  const points = counts.length;
  const per = c * area;
  // Row i·points + k: sample i with its counts[k] most relevant pixels changed.
  const [from, to] = kind === 'deletion' ? [x, base] : [base, x];
  const sampleOf = (r: number) => Math.floor(r / points);
  const last: { out?: Float32Array; row: number; offset: number } = { row: -1, offset: -1 };
  const scores = await scoreRows(
    explainer,
    target,
    score,
    n * points,
    (r, out, offset) => {
      const i = sampleOf(r);
      const k = r % points;
      const order = orders[i];
      // Row r extends row r − 1 of the same sample by one step: copy it when it sits just before.
      let done = 0;
      if (k > 0 && last.out === out && last.row === r - 1 && last.offset === offset - per) {
        out.copyWithin(offset, offset - per, offset);
        done = counts[k - 1];
      } else out.set(from.subarray(i * per, (i + 1) * per), offset);
      for (let j = done; j < counts[k]; j++) {
        const p = order[j];
        for (let ch = 0; ch < c; ch++) out[offset + ch * area + p] = to[i * per + ch * area + p];
      }
      last.out = out;
      last.row = r;
      last.offset = offset;
    },
    sampleOf,
    options.onProgress,
  );
  const fractions = counts.map((k) => k / area);
  const auc = Array.from({ length: n }, (_, i) =>
    trapezoid(fractions, scores.subarray(i * points, (i + 1) * points)),
  );
  return { kind, fractions, scores, auc, params: { step, substrate, score } };
}
