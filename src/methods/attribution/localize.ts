/**
 * Weakly supervised localisation: upsample a CAM to the image, keep the pixels at or above a
 * fraction of its maximum, take the largest 8-connected component and return its box (Zhou et al.
 * 2016, §3.1: "segment the regions of which the value is above 20% of the max value of the CAM
 * and then take the bounding box that covers the largest connected component").
 */
import { resizeImage } from '../../data/dataset.js';

/** [x0, y0, x1, y1] in pixels, end-exclusive (as the datasets' boxes). */
export type Box = [number, number, number, number];

/** Default thresholds as a fraction of the map's max: CAM (Zhou et al.) and Grad-CAM (Selvaraju et al. §4.1). */
export const BOX_THRESHOLDS: Record<string, number> = { cam: 0.2, gradcam: 0.15 };
export const DEFAULT_BOX_THRESHOLD = 0.15;

/**
 * A method's box threshold: the model's calibrated one (its card's), else the paper default.
 * @example
 * boxThresholdFor('gradcam');                     // 0.15 (Selvaraju et al.)
 * boxThresholdFor('gradcam', { gradcam: 0.175 }); // 0.175
 * boxThresholdFor('gradcam', calibratedThresholds(readCard(model.model)));
 */
export function boxThresholdFor(method: string, calibrated: Record<string, number> = {}): number {
  return calibrated[method] ?? BOX_THRESHOLDS[method] ?? DEFAULT_BOX_THRESHOLD;
}

/** The box of the largest connected region of an h×w map (upsampled to height×width) at ≥ threshold·max; undefined when the map has no positive value. */
export function camBox(
  map: Float32Array,
  h: number,
  w: number,
  height: number,
  width: number,
  threshold: number,
): Box | undefined {
  if (!(threshold >= 0 && threshold <= 1))
    throw new Error(`box threshold must be in [0, 1], got ${threshold}`);
  const up = resizeImage(map, 1, h, w, height, width);
  let max = 0;
  for (const v of up) max = Math.max(max, v);
  if (!(max > 0)) return undefined;
  const cut = threshold * max;
  const label = new Int32Array(up.length).fill(-1);
  let best: Box | undefined;
  let bestSize = 0;
  const stack: number[] = [];
  for (let start = 0; start < up.length; start++) {
    if (label[start] !== -1 || up[start] < cut) continue;
    label[start] = start;
    stack.push(start);
    let size = 0;
    let box: Box = [width, height, 0, 0];
    while (stack.length) {
      const p = stack.pop()!;
      size++;
      const y = Math.floor(p / width);
      const x = p % width;
      box = [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x + 1), Math.max(box[3], y + 1)];
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
          const q = yy * width + xx;
          if (label[q] === -1 && up[q] >= cut) {
            label[q] = start;
            stack.push(q);
          }
        }
    }
    if (size > bestSize) {
      bestSize = size;
      best = box;
    }
  }
  return best;
}

/** Intersection over union of two end-exclusive boxes. */
export function boxIoU(a: Box, b: Box): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}
