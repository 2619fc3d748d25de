/**
 * Pointing games against object masks. The pointing game (Zhang et al. 2016, "Top-down Neural
 * Attention by Excitation Backprop", §5.1): a hit when the map's maximum lies on the object, within
 * `tolerance` pixels (15 at 224 px in the paper). The energy-based pointing game (Wang et al. 2020,
 * "Score-CAM", §4.2): the share of the map's positive energy that falls on the object,
 * Σ_{p ∈ object} max(L_p, 0) / Σ_p max(L_p, 0). Samples without a mask are left out.
 */
import { checkPlanes, planeAt, type RelevancePlanes } from './planes.js';

export interface PointingResult {
  /** Per sample: 1 hit, 0 miss, NaN when the sample has no mask (left out of the mean). */
  hits: number[];
  /** Hits / samples with a mask. */
  accuracy: number;
  /** Per sample: the energy share (NaN without a mask; 0 for a map with no positive energy). */
  energy: number[];
  meanEnergy: number;
  /** Samples scored. */
  scored: number;
  tolerance: number;
}

/** The default tolerance: 15 px at 224 px, scaled to the image's shorter side. */
export function defaultTolerance(height: number, width: number): number {
  return Math.round((15 * Math.min(height, width)) / 224);
}

/**
 * @example
 * ```ts
 * const { accuracy, meanEnergy } = pointingGame(planes, masks); // masks: 0/1 per pixel per sample
 * ```
 */
export function pointingGame(
  planes: RelevancePlanes,
  masks: readonly (ArrayLike<number> | undefined)[],
  tolerance = defaultTolerance(planes.height, planes.width),
): PointingResult {
  const { n, height, width } = planes;
  checkPlanes(planes, masks.length, height, width);
  if (!(tolerance >= 0) || !Number.isFinite(tolerance))
    throw new Error(`pointing-game tolerance must be a number of pixels ≥ 0, got ${tolerance}`);
  const hits: number[] = [];
  const energy: number[] = [];
  const r = Math.floor(tolerance);
  for (let i = 0; i < n; i++) {
    const mask = masks[i];
    if (!mask || !Array.prototype.some.call(mask, (v: number) => v > 0)) {
      hits.push(Number.NaN);
      energy.push(Number.NaN);
      continue;
    }
    if (mask.length !== height * width)
      throw new Error(`mask ${i} has ${mask.length} pixels, not ${height}×${width}`);
    const plane = planeAt(planes, i);
    let best = 0;
    for (let p = 1; p < plane.length; p++) if (plane[p] > plane[best]) best = p;
    const by = Math.floor(best / width);
    const bx = best % width;
    let hit = 0;
    for (let y = Math.max(0, by - r); y <= Math.min(height - 1, by + r) && !hit; y++)
      for (let x = Math.max(0, bx - r); x <= Math.min(width - 1, bx + r); x++)
        if ((y - by) ** 2 + (x - bx) ** 2 <= tolerance * tolerance && mask[y * width + x] > 0) {
          hit = 1;
          break;
        }
    hits.push(hit);
    let inside = 0;
    let total = 0;
    for (let p = 0; p < plane.length; p++) {
      const v = Math.max(0, plane[p]);
      total += v;
      if (mask[p] > 0) inside += v;
    }
    energy.push(total > 0 ? inside / total : 0);
  }
  const scored = hits.filter((v) => !Number.isNaN(v));
  return {
    hits,
    accuracy: meanOfScored(hits),
    energy,
    meanEnergy: meanOfScored(energy),
    scored: scored.length,
    tolerance,
  };
}

/**
 * The mean over samples that were scored (NaN entries, samples without a mask, left out); NaN when none was.
 *
 * @example
 * ```ts
 * meanOfScored([1, Number.NaN, 0]); // 0.5
 * ```
 */
export function meanOfScored(values: readonly number[]): number {
  const ok = values.filter((x) => !Number.isNaN(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
}
