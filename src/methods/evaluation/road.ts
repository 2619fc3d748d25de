/**
 * ROAD, RemOve And Debias (Rong et al. 2022): remove a fraction p of the pixels, most relevant
 * first (MoRF) or least relevant first (LeRF), fill them by noisy linear imputation (which leaks
 * little of the removed region's shape to the model, unlike a constant substrate), and record the
 * target's score. A faithful map makes MoRF fall fast and LeRF stay high; `gap` = mean over p of
 * (LeRF − MoRF), as pytorch-grad-cam's ROADCombined up to its factor ½ (higher is better).
 */
import { indexSeed, Random } from '../../maths/random.js';
import type { Explainer } from '../attribution/pipeline.js';
import type { BoundTarget } from '../attribution/target.js';
import { noisyLinearImputation } from './imputation.js';
import { checkScore, type PerturbationOptions, scoreRows } from './perturbation.js';
import { checkPlanes, planeAt, type RelevancePlanes, rankPixels } from './planes.js';

export interface RoadOptions extends PerturbationOptions {
  /** Fractions removed (default 0.1, 0.2, …, 0.9, the paper's). */
  fractions?: number[];
  /** Imputation noise, in model-input units (default 0.01, the reference's). */
  noise?: number;
  seed?: number;
}

export interface RoadResult {
  fractions: number[];
  /** Score per sample per fraction, [N × fractions], most relevant removed first. */
  morf: Float64Array;
  /** The same with the least relevant removed first. */
  lerf: Float64Array;
  /** Per sample: mean over fractions of LeRF − MoRF. */
  gap: number[];
  params: { noise: number; score: string };
}

export const ROAD_FRACTIONS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/** The reference implementation's imputation noise, in model-input units. */
export const ROAD_NOISE = 0.01;

/** The options with defaults resolved; throws naming a fraction outside (0, 1) or a negative noise. */
export function checkRoadOptions(options: RoadOptions): { fractions: number[]; noise: number } {
  const fractions = options.fractions ?? ROAD_FRACTIONS;
  if (fractions.length === 0 || fractions.some((f) => !(f > 0 && f < 1)))
    throw new Error(`ROAD fractions must lie in (0, 1), got ${fractions.join(', ')}`);
  const noise = options.noise ?? ROAD_NOISE;
  if (!(noise >= 0) || !Number.isFinite(noise))
    throw new Error(`ROAD noise must be a number ≥ 0, got ${noise}`);
  return { fractions, noise };
}

/**
 * @example
 * ```ts
 * const { morf, lerf, gap } = await road(explainer, target, planes, { fractions: [0.1, 0.5, 0.9] });
 * ```
 */
export async function road(
  explainer: Explainer,
  target: BoundTarget,
  planes: RelevancePlanes,
  options: RoadOptions = {},
): Promise<RoadResult> {
  const [n, c, h, w] = explainer.input.dims;
  checkPlanes(planes, n, h, w);
  const { fractions, noise } = checkRoadOptions(options);
  const score = checkScore(options.score ?? 'probability', target);
  const seed = options.seed ?? 0;
  const area = h * w;
  const per = c * area;
  const x = explainer.input.data as Float32Array;
  const sampleSeeds = Array.from({ length: n }, (_, i) => explainer.sampleSeed(i, seed));
  const orders = sampleSeeds.map((s, i) => rankPixels(planeAt(planes, i), new Random(s)));
  const f = fractions.length;
  // Row (i·2 + side)·f + k: sample i, side 0 = MoRF / 1 = LeRF, fraction k; each row's noise is
  // seeded by its sample's seed and its place among the sample's rows, so a row's image depends
  // neither on batching nor on which samples share the batch.
  const sampleOf = (r: number) => Math.floor(r / (2 * f));
  const removed = new Uint8Array(area);
  const values = await scoreRows(
    explainer,
    target,
    score,
    2 * n * f,
    (r, out, offset) => {
      const i = sampleOf(r);
      const side = Math.floor(r / f) % 2;
      const count = Math.round(fractions[r % f] * area);
      const order = orders[i];
      removed.fill(0);
      for (let j = 0; j < count; j++) removed[order[side === 0 ? j : area - 1 - j]] = 1;
      const image = x.subarray(i * per, (i + 1) * per);
      out.set(
        noisyLinearImputation(
          image,
          c,
          h,
          w,
          removed,
          noise,
          new Random(indexSeed(sampleSeeds[i], r % (2 * f))),
        ),
        offset,
      );
    },
    sampleOf,
    options.onProgress,
  );
  const morf = new Float64Array(n * f);
  const lerf = new Float64Array(n * f);
  const gap: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < f; k++) {
      morf[i * f + k] = values[2 * i * f + k];
      lerf[i * f + k] = values[(2 * i + 1) * f + k];
      s += lerf[i * f + k] - morf[i * f + k];
    }
    gap.push(s / f);
  }
  return { fractions: [...fractions], morf, lerf, gap, params: { noise, score } };
}
