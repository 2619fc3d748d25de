/**
 * From a raw attribution map to one displayable H×W plane in [0, 1]: channel reduction for pixel
 * maps (max |v| over channels, as Simonyan et al. 2014 §3.1, or the signed channel sum),
 * percentile clipping (gradient maps are dominated by a few pixels), bilinear upsampling of
 * layer maps to the image, and normalisation (by the max, or symmetric around 0.5 for signed maps).
 */
import { resizeImage } from '../data/dataset.js';

export const REDUCTIONS = ['abs-max', 'abs-sum', 'sum'] as const;
export type Reduction = (typeof REDUCTIONS)[number];

export interface DisplayOptions {
  /** How a C×H×W pixel map becomes H×W (default abs-max; 'sum' keeps the sign). */
  reduce?: Reduction;
  /** Clip at this percentile of |v| before normalising (default 99 for pixel maps, 100 for layer maps). */
  percentile?: number;
}

export interface DisplayPlane {
  values: Float32Array;
  height: number;
  width: number;
  /** Signed planes map 0 to 0.5 (for a diverging colormap). */
  signed: boolean;
}

/** The p-th percentile (0–100) of |values| (nearest rank). */
export function absPercentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return 0;
  if (p >= 100) {
    let max = 0;
    for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
    return max;
  }
  const a = Float32Array.from(values, Math.abs).sort();
  const rank = Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1));
  return a[rank];
}

/** One C×area sample reduced over its channels to one plane of `area` values. */
export function reduceChannels(
  sample: ArrayLike<number>,
  c: number,
  area: number,
  reduce: Reduction,
): Float32Array {
  const plane = new Float32Array(area);
  for (let j = 0; j < area; j++) {
    let v = 0;
    for (let k = 0; k < c; k++) {
      const x = sample[k * area + j];
      if (reduce === 'abs-max') v = Math.max(v, Math.abs(x));
      else v += reduce === 'abs-sum' ? Math.abs(x) : x;
    }
    plane[j] = v;
  }
  return plane;
}

/** Sample `index` of a map with dims [N, C, h, w] as a display plane at height×width. */
export function displayPlane(
  data: Float32Array,
  dims: number[],
  index: number,
  height: number,
  width: number,
  options: DisplayOptions = {},
): DisplayPlane {
  const [, c, h, w] = dims;
  const area = h * w;
  const sample = data.subarray(index * c * area, (index + 1) * c * area);
  const reduce = options.reduce ?? 'abs-max';
  let plane = reduceChannels(sample, c, area, reduce);
  const signed = reduce === 'sum' && plane.some((v) => v < 0);
  if (h !== height || w !== width)
    plane = resizeImage(plane, 1, h, w, height, width) as Float32Array<ArrayBuffer>;
  const p = options.percentile ?? 100;
  const scale = absPercentile(plane, p);
  const values = new Float32Array(plane.length);
  if (scale > 0)
    for (let j = 0; j < plane.length; j++) {
      const v = Math.max(-1, Math.min(1, plane[j] / scale));
      values[j] = signed ? 0.5 + 0.5 * v : Math.max(0, v);
    }
  else if (signed) values.fill(0.5);
  return { values, height, width, signed };
}
