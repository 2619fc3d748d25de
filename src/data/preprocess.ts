/**
 * Preprocessing, described once (in the model card) and applied the same everywhere: decoded
 * pixels in [0, 1] are resized (exactly, or to cover and centre-cropped), converted to the model's
 * channel count, normalised as (p − mean) / std per channel, and laid out NCHW.
 */
import { LAYOUTS, type Layout } from '../onnx/layout.js';
import { float32, type Tensor } from '../onnx/tensor.js';
import type { Dataset } from './dataset.js';

export const NORMALIZATIONS = {
  /** Pixels as they are, in [0, 1]. */
  unit: { mean: [0], std: [1] },
  /** [−1, 1]. */
  symmetric: { mean: [0.5], std: [0.5] },
  /** torchvision's ImageNet statistics. */
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
} as const;
export type NormalizationName = keyof typeof NORMALIZATIONS;

export const RESIZE_MODES = ['exact', 'center-crop'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

export interface Preprocessing {
  /** Model input [height, width]. */
  size: [number, number];
  channels: 1 | 3;
  /** 'exact' stretches to size; 'center-crop' scales to cover size and crops the centre. */
  resize: ResizeMode;
  /** Per-channel (or one shared) mean and std applied to pixels in [0, 1]. */
  mean: number[];
  std: number[];
  /**
   * The input's layout: 'nchw' (PyTorch; the default when absent) or 'nhwc' (Keras/TensorFlow
   * exports). Images and .npy batches are fed, and pixel maps returned, in this layout.
   */
  layout?: Layout;
}

/** A preprocessing from a named normalisation. */
export function preprocessing(
  size: [number, number],
  channels: 1 | 3,
  normalization: NormalizationName = 'unit',
  resize: ResizeMode = 'exact',
): Preprocessing {
  const n = NORMALIZATIONS[normalization];
  if (!n)
    throw new Error(
      `unknown normalisation "${normalization}"; allowed: ${Object.keys(NORMALIZATIONS).join(', ')}`,
    );
  return { size, channels, resize, mean: [...n.mean], std: [...n.std] };
}

/** Check a preprocessing's fields; throws naming the bad one. */
export function validatePreprocessing(p: Preprocessing): void {
  const [h, w] = p.size ?? [];
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0)
    throw new Error(`preprocessing: size must be two positive integers, got ${JSON.stringify(p.size)}`);
  if (p.channels !== 1 && p.channels !== 3)
    throw new Error(`preprocessing: channels must be 1 or 3, got ${p.channels}`);
  if (!RESIZE_MODES.includes(p.resize))
    throw new Error(`preprocessing: resize "${p.resize}" is not one of ${RESIZE_MODES.join(', ')}`);
  for (const key of ['mean', 'std'] as const) {
    const v = p[key];
    if (
      !Array.isArray(v) ||
      (v.length !== 1 && v.length !== p.channels) ||
      v.some((x) => !Number.isFinite(x))
    )
      throw new Error(
        `preprocessing: ${key} must hold 1 or ${p.channels} finite numbers, got ${JSON.stringify(v)}`,
      );
  }
  if (p.std.some((s) => s === 0)) throw new Error('preprocessing: std must not be 0');
  if (p.layout !== undefined && !(LAYOUTS as readonly string[]).includes(p.layout))
    throw new Error(`preprocessing: layout "${p.layout}" is not one of ${LAYOUTS.join(', ')}`);
}

/**
 * Convert one C×H×W image in [0, 1] (at the model's size) to the model's channels and normalise
 * it, writing into `out` at `offset`.
 */
export function normalizeInto(
  image: Float32Array,
  channels: number,
  p: Preprocessing,
  out: Float32Array,
  offset = 0,
): void {
  const area = p.size[0] * p.size[1];
  if (image.length !== channels * area)
    throw new Error(`image has ${image.length} values; expected ${channels}×${p.size[0]}×${p.size[1]}`);
  for (let c = 0; c < p.channels; c++) {
    const mean = p.mean[p.mean.length === 1 ? 0 : c];
    const std = p.std[p.std.length === 1 ? 0 : c];
    const dst = offset + c * area;
    if (channels === p.channels) {
      for (let i = 0; i < area; i++) out[dst + i] = (image[c * area + i] - mean) / std;
    } else if (channels === 1) {
      for (let i = 0; i < area; i++) out[dst + i] = (image[i] - mean) / std;
    } else {
      // RGB → grey: ITU-R BT.601 luma.
      for (let i = 0; i < area; i++)
        out[dst + i] =
          (0.299 * image[i] + 0.587 * image[area + i] + 0.114 * image[2 * area + i] - mean) / std;
    }
  }
}

/**
 * `normalizeInto` for a dataset image at the model's size whose channel count (1 or 3) is read off
 * its length, so MNIST feeds an RGB model and shapes a grey one.
 *
 * @example
 * ```ts
 * normalizeSample(sample.image, card.preprocessing, batch, k * per);
 * ```
 */
export function normalizeSample(image: Float32Array, p: Preprocessing, out: Float32Array, offset = 0): void {
  const area = p.size[0] * p.size[1];
  const channels = image.length / area;
  if (channels !== 1 && channels !== 3)
    throw new Error(
      `image has ${image.length} values, neither 1×${p.size[0]}×${p.size[1]} nor 3×${p.size[0]}×${p.size[1]}`,
    );
  normalizeInto(image, channels, p, out, offset);
}

/** A batch of dataset samples as an NCHW model input plus their labels. */
export function batchTensor(
  data: Dataset,
  indices: readonly number[],
  p: Preprocessing,
  transform?: (image: Float32Array, index: number) => Float32Array,
): { input: Tensor; labels: Int32Array } {
  if (data.height !== p.size[0] || data.width !== p.size[1])
    throw new Error(
      `dataset "${data.name}" is ${data.height}×${data.width}; the model takes ${p.size[0]}×${p.size[1]}`,
    );
  const per = p.channels * p.size[0] * p.size[1];
  const out = new Float32Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  indices.forEach((idx, k) => {
    const s = data.get(idx);
    normalizeInto(transform ? transform(s.image, k) : s.image, data.channels, p, out, k * per);
    labels[k] = s.label;
  });
  return { input: float32(out, [indices.length, p.channels, ...p.size]), labels };
}
