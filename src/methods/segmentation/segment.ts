/**
 * Segmentation without supervision (Simonyan, Vedaldi & Zisserman 2014, §3.2): a class saliency
 * map seeds GrabCut — its top quantile foreground, its bottom quantile background — and GrabCut
 * grows the seeds into an object mask along the image's colours. Any attribution map works:
 * pixel maps reduce to max |g| over channels, layer maps are upsampled bilinearly.
 */
import { resizeImage } from '../../data/dataset.js';
import { displayPlane } from '../../render/display.js';
import type { RgbImage } from '../../render/image.js';
import type { AttributionMap } from '../attribution/pipeline.js';
import { rankingReduction } from '../evaluation/planes.js';
import { grabCut } from './grabcut.js';
import { DEFAULT_SEEDS, type SeedFractions, type Seeds, seedLabels } from './seeds.js';

export interface SegmentOptions extends Partial<SeedFractions> {
  /** GrabCut iterations (default 5). */
  iterations?: number;
}

export interface Segmentation {
  /** 1 on the object, 0 elsewhere, height × width of the image. */
  mask: Uint8Array;
  seeds: Seeds;
  /** The map at the image's size, as seeded. */
  plane: Float32Array;
}

/**
 * An object mask from an image and a map of it (any size; resized bilinearly to the image).
 *
 * @example
 * const { mask } = await segmentFromMap(image, { data: plane, height: 16, width: 16 }, { fg: 0.95, bg: 0.3 });
 */
export async function segmentFromMap(
  image: RgbImage,
  map: { data: ArrayLike<number>; height: number; width: number },
  options: SegmentOptions = {},
): Promise<Segmentation> {
  const { height, width } = image;
  if (map.data.length !== map.height * map.width)
    throw new Error(`segmentFromMap: the map has ${map.data.length} values, not ${map.height}×${map.width}`);
  const plane = resizeImage(Float32Array.from(map.data), 1, map.height, map.width, height, width);
  const seeds = seedLabels(plane, { fg: options.fg ?? DEFAULT_SEEDS.fg, bg: options.bg ?? DEFAULT_SEEDS.bg });
  const mask = seeds.flat
    ? new Uint8Array(height * width)
    : await grabCut(image, seeds.labels, options.iterations ?? 5);
  return { mask, seeds, plane };
}

/** Sample `index` of an attribution map as one plane at the image's size (see the module comment). */
export function seedPlane(map: AttributionMap, index: number, height: number, width: number): Float32Array {
  return displayPlane(map.data, map.dims, index, height, width, {
    // Signed maps seed on their positive evidence; the others on max |v| over channels.
    reduce: rankingReduction(map.method),
    percentile: 100,
  }).values;
}

/** Intersection over union of two 0/1 masks (1 when both are empty). */
export function maskIoU(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maskIoU: masks of ${a.length} and ${b.length} pixels`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > 0;
    const y = b[i] > 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}
