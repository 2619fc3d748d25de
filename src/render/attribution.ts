/**
 * How each attribution map is shown: layer maps (CAM family) upsampled and normalised by their
 * max over the image; gradient maps as max |v| over channels clipped at the 99th percentile;
 * signed maps (Integrated Gradients, occlusion) as the channel sum on a diverging colormap.
 * CAM-like maps also get their localisation box.
 */
import { resizeImage } from '../data/dataset.js';
import { type Box, boxThresholdFor, camBox } from '../methods/attribution/localize.js';
import type { AttributionMap } from '../methods/attribution/pipeline.js';
import { colormap } from './colormap.js';
import { type DisplayOptions, displayPlane } from './display.js';
import { drawBox, greyscale, overlay, type RgbImage, resizeRgb } from './image.js';

export interface RenderOptions {
  /** Colormap for unsigned maps (default jet for layer maps, inferno for gradient maps); signed maps use 'diverging'. */
  colormap?: string;
  alpha?: number;
  /** Side of the rendered image's shorter edge (default: the image scaled up to at least 224). */
  displaySize?: number;
  /** Box threshold as a fraction of the CAM max, for every method (default: `boxThresholds`). */
  boxThreshold?: number;
  /** Per-method thresholds calibrated for the model (its card's); else 0.2 for CAM, 0.15 otherwise. */
  boxThresholds?: Record<string, number>;
  /** Draw the localisation box on layer-resolution maps (default true). */
  box?: boolean;
}

const SIGNED = new Set(['ig', 'occlusion']);

/** How a map is reduced for display: signed maps keep their sign; gradient maps clip at the 99th percentile. */
export function displayOptionsFor(map: Pick<AttributionMap, 'method' | 'resolution'>): DisplayOptions {
  if (SIGNED.has(map.method)) return { reduce: 'sum', percentile: map.method === 'ig' ? 99 : 100 };
  return { reduce: 'abs-max', percentile: map.resolution === 'input' ? 99 : 100 };
}

/** The integer scale that brings an image's shorter side to at least `min` pixels. */
export function displayScale(height: number, width: number, min = 224): number {
  return Math.max(1, Math.ceil(min / Math.min(height, width)));
}

export interface RenderedAttribution {
  image: RgbImage;
  /** Localisation box in input pixels (layer-resolution maps only). */
  box?: Box;
  boxThreshold?: number;
}

/** Render sample `index` of a map over `base` (the input as RGB at the model's size). */
export function renderAttribution(
  map: AttributionMap,
  index: number,
  base: RgbImage,
  options: RenderOptions = {},
): RenderedAttribution {
  const { height, width } = base;
  const plane = displayPlane(map.data, map.dims, index, height, width, displayOptionsFor(map));
  const scale = options.displaySize
    ? options.displaySize / Math.min(height, width)
    : displayScale(height, width);
  const H = Math.round(height * scale);
  const W = Math.round(width * scale);
  const big = resizeRgb(base, H, W);
  const v = resizeImage(plane.values, 1, height, width, H, W);
  // CAM-like maps: a translucent colormap over the image; gradient maps: an opaque-where-strong
  // heat map over a dimmed grey image; signed maps: a diverging colormap.
  const image = plane.signed
    ? overlay(greyscale(big, 0.8), v, colormap('diverging'), options.alpha ?? 0.75)
    : map.resolution === 'input'
      ? overlay(greyscale(big, 0.45), v, colormap(options.colormap ?? 'inferno'), 1, true)
      : overlay(big, v, colormap(options.colormap ?? 'jet'), options.alpha ?? 0.5);
  if (map.resolution !== 'layer' || options.box === false) return { image };
  const [, , h, w] = map.dims;
  const threshold = options.boxThreshold ?? boxThresholdFor(map.method, options.boxThresholds);
  const box = camBox(map.data.subarray(index * h * w, (index + 1) * h * w), h, w, height, width, threshold);
  if (box) drawBox(image, box, [255, 255, 255], Math.max(1, Math.round(scale)), scale);
  return { image, box, boxThreshold: threshold };
}

const fmt = (v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(3)).toString() : String(v));

/**
 * The few parameters that decide a map, short enough for a grid caption: occlusion "8×8 / 4"
 * (window / stride), SmoothGrad "σ 0.15→0.262" (fraction → input units), IG
 * "64 steps, zero"; empty for methods whose only choice is the layer.
 */
export function captionParams(method: string, p: Record<string, unknown>): string {
  if (method === 'occlusion') return `${p.window}×${p.window} / ${p.stride}`;
  if (method === 'smoothgrad')
    return `σ ${fmt(p.sigma)}${p.sigmaInputUnits !== undefined ? `→${fmt(p.sigmaInputUnits)}` : ''}`;
  if (method === 'ig') return `${p.steps} steps, ${p.baseline}`;
  return '';
}
