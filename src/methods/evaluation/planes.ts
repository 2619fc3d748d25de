/**
 * Relevance planes: every attribution map, whatever its method, as one H×W plane per sample at the
 * input's resolution, the common currency of the faithfulness metrics. Pixel maps reduce over
 * channels (signed methods by their sum, gradient methods by max |v|, as Simonyan et al. 2014 §3.1);
 * layer maps are upsampled bilinearly (half-pixel centres, as the overlays are drawn).
 */
import { resizeImage } from '../../data/dataset.js';
import { permutation, type Random } from '../../maths/random.js';
import { type Reduction, reduceChannels } from '../../render/display.js';
import { type AttributionMap, checkFinite } from '../attribution/pipeline.js';

/** N planes of height × width, sample-major. */
export interface RelevancePlanes {
  data: Float32Array;
  n: number;
  height: number;
  width: number;
}

/** How a C-channel pixel map becomes one plane (max |v|, Σ|v| or Σv over channels). */
export type ChannelReduction = Reduction;

/** Methods whose sign carries meaning (attributions that sum to a change of the output). */
const SIGNED_METHODS = new Set(['ig', 'occlusion']);

/** The reduction a method's pixel map is ranked by: the signed sum for IG and occlusion, else max |v|. */
export function rankingReduction(method: string): ChannelReduction {
  return SIGNED_METHODS.has(method) ? 'sum' : 'abs-max';
}

/**
 * An [N, C, h, w] array (or [N, h, w]) as planes at height × width.
 *
 * @example
 * ```ts
 * const planes = relevancePlanes(npy.data, [8, 1, 16, 16], 64, 64); // Grad-CAMs read from .npy
 * ```
 */
export function relevancePlanes(
  data: Float32Array,
  dims: readonly number[],
  height: number,
  width: number,
  reduce: ChannelReduction = 'abs-max',
): RelevancePlanes {
  const full = dims.length === 3 ? [dims[0], 1, dims[1], dims[2]] : [...dims];
  if (full.length !== 4 || full.some((d) => !Number.isInteger(d) || d < 1))
    throw new Error(`a map must be [N, C, H, W] or [N, H, W], got [${dims.join(', ')}]`);
  const [n, c, h, w] = full;
  if (data.length !== n * c * h * w)
    throw new Error(`a map of dims [${dims.join(', ')}] needs ${n * c * h * w} values, got ${data.length}`);
  checkFinite('relevance map', data);
  const area = h * w;
  const out = new Float32Array(n * height * width);
  for (let i = 0; i < n; i++) {
    const plane = reduceChannels(data.subarray(i * c * area, (i + 1) * c * area), c, area, reduce);
    out.set(resizeImage(plane, 1, h, w, height, width), i * height * width);
  }
  return { data: out, n, height, width };
}

/**
 * An attribution map as planes at the input's size, reduced as its method is ranked.
 *
 * @example
 * ```ts
 * const planes = planesOf(maps[0], 64, 64); // Grad-CAM's 16×16 maps upsampled to 64×64
 * ```
 */
export function planesOf(
  map: AttributionMap,
  height: number,
  width: number,
  reduce = rankingReduction(map.method),
): RelevancePlanes {
  return relevancePlanes(map.data, map.dims, height, width, reduce);
}

/** Plane i of a set (a view, not a copy). */
export function planeAt(planes: RelevancePlanes, i: number): Float32Array {
  const area = planes.height * planes.width;
  return planes.data.subarray(i * area, (i + 1) * area);
}

const TIE_BITS = 2 ** 21;

/**
 * Pixel indices from most to least relevant (values compared as float32); ties are broken in a
 * seeded random order, so a constant map ranks pixels uniformly at random (the baseline every
 * metric compares against). Up to 2²¹ pixels the sort is one native Float64Array sort of packed
 * keys (order-preserving float32 bits × 2²¹ + a random tie rank), exact as integers below 2⁵³.
 *
 * @example
 * ```ts
 * rankPixels([0.2, 0.9, 0.2], new Random(0)); // [1, 0, 2] or [1, 2, 0], by the seed
 * ```
 */
export function rankPixels(plane: ArrayLike<number>, random: Random): Uint32Array {
  const n = plane.length;
  const perm = permutation(n, random);
  const out = new Uint32Array(n);
  if (n > TIE_BITS) {
    const tie = new Uint32Array(n);
    for (let t = 0; t < n; t++) tie[perm[t]] = t;
    const values = Float32Array.from(plane);
    for (let j = 0; j < n; j++) out[j] = j;
    return out.sort((a, b) => values[b] - values[a] || tie[a] - tie[b]);
  }
  const f32 = new Float32Array(1);
  const bits = new Uint32Array(f32.buffer);
  const keys = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    f32[0] = plane[perm[t]] + 0;
    const b = bits[0];
    // Float32 bits mapped to unsigned integers in the values' order, then reversed (largest first).
    const ascending = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    keys[t] = (0xffffffff - ascending) * TIE_BITS + t;
  }
  keys.sort();
  for (let j = 0; j < n; j++) out[j] = perm[keys[j] % TIE_BITS];
  return out;
}

/** Check that planes match images of n samples at height × width. */
export function checkPlanes(planes: RelevancePlanes, n: number, height: number, width: number): void {
  if (planes.n !== n || planes.height !== height || planes.width !== width)
    throw new Error(
      `maps of ${planes.n} × ${planes.height}×${planes.width} do not match ${n} images of ${height}×${width}`,
    );
}
