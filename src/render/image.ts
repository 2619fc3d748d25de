/**
 * RGB images as bytes (H·W·3, row-major) for rendering: from model-space tensors, resized,
 * blended with heat maps, with boxes drawn on them.
 */
import { resizeImage } from '../data/dataset.js';
import type { Box } from '../methods/attribution/localize.js';
import { colorize, type Lut } from './colormap.js';

export interface RgbImage {
  width: number;
  height: number;
  /** H·W·3 bytes. */
  data: Uint8Array;
}

/** A C×H×W image with values in [0, 1] (C = 1 or 3) as RGB bytes. */
export function rgbFromPlanar(
  image: Float32Array,
  channels: number,
  height: number,
  width: number,
): RgbImage {
  const area = height * width;
  const data = new Uint8Array(area * 3);
  for (let j = 0; j < area; j++)
    for (let k = 0; k < 3; k++) {
      const v = image[(channels === 1 ? 0 : k) * area + j];
      data[j * 3 + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  return { width, height, data };
}

/** RGB bytes as opaque RGBA (what a canvas's ImageData takes). */
export function rgbaFromRgb(img: RgbImage): { width: number; height: number; rgba: Uint8ClampedArray } {
  const rgba = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0; i < img.width * img.height; i++) {
    rgba.set(img.data.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  return { width: img.width, height: img.height, rgba };
}

/** Undo mean/std normalisation: model input [C, H, W] → pixels in [0, 1]. */
export function denormalize(x: Float32Array, channels: number, mean: number[], std: number[]): Float32Array {
  const area = x.length / channels;
  const out = new Float32Array(x.length);
  for (let c = 0; c < channels; c++) {
    const m = mean[mean.length === 1 ? 0 : c];
    const s = std[std.length === 1 ? 0 : c];
    for (let j = 0; j < area; j++) out[c * area + j] = Math.min(1, Math.max(0, x[c * area + j] * s + m));
  }
  return out;
}

/** Bilinear resize of an RGB image. */
export function resizeRgb(img: RgbImage, height: number, width: number): RgbImage {
  if (img.height === height && img.width === width) return img;
  const planar = new Float32Array(3 * img.height * img.width);
  const area = img.height * img.width;
  for (let j = 0; j < area; j++) for (let k = 0; k < 3; k++) planar[k * area + j] = img.data[j * 3 + k] / 255;
  return rgbFromPlanar(resizeImage(planar, 3, img.height, img.width, height, width), 3, height, width);
}

/** Nearest-neighbour resize (keeps small kernels and feature maps crisp). */
export function resizeNearest(img: RgbImage, height: number, width: number): RgbImage {
  if (img.height === height && img.width === width) return img;
  const data = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / width));
      for (let k = 0; k < 3; k++) data[(y * width + x) * 3 + k] = img.data[(sy * img.width + sx) * 3 + k];
    }
  }
  return { width, height, data };
}

/** (1 − α·v)·image + α·v·color(v) when `weighByValue`, else (1 − α)·image + α·color(v). */
export function overlay(
  base: RgbImage,
  values: Float32Array,
  lut: Lut,
  alpha = 0.5,
  weighByValue = false,
): RgbImage {
  if (values.length !== base.width * base.height)
    throw new Error(`overlay: ${values.length} values for a ${base.width}×${base.height} image`);
  const colors = colorize(values, lut);
  const data = new Uint8Array(base.data.length);
  for (let j = 0; j < values.length; j++) {
    const a = weighByValue ? alpha * Math.min(1, Math.max(0, values[j])) : alpha;
    for (let k = 0; k < 3; k++)
      data[j * 3 + k] = Math.round((1 - a) * base.data[j * 3 + k] + a * colors[j * 3 + k]);
  }
  return { width: base.width, height: base.height, data };
}

/** The image in grey, scaled by `brightness` (a quiet background for gradient maps). */
export function greyscale(img: RgbImage, brightness = 1): RgbImage {
  const data = new Uint8Array(img.data.length);
  for (let j = 0; j < img.width * img.height; j++) {
    const v =
      brightness * (0.299 * img.data[j * 3] + 0.587 * img.data[j * 3 + 1] + 0.114 * img.data[j * 3 + 2]);
    data[j * 3] = data[j * 3 + 1] = data[j * 3 + 2] = Math.round(v);
  }
  return { width: img.width, height: img.height, data };
}

/** A heat map alone, as RGB. */
export function heatImage(values: Float32Array, height: number, width: number, lut: Lut): RgbImage {
  return { width, height, data: colorize(values, lut) };
}

/** Draw a box outline (in place); coordinates are scaled from a `fromWidth`-wide image. */
export function drawBox(
  img: RgbImage,
  box: Box,
  color: [number, number, number],
  thickness = 2,
  scale = 1,
): RgbImage {
  const [x0, y0, x1, y1] = box.map((v) => Math.round(v * scale));
  const set = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    const o = (y * img.width + x) * 3;
    img.data[o] = color[0];
    img.data[o + 1] = color[1];
    img.data[o + 2] = color[2];
  };
  for (let t = 0; t < thickness; t++) {
    for (let x = x0; x < x1; x++) {
      set(x, y0 + t);
      set(x, y1 - 1 - t);
    }
    for (let y = y0; y < y1; y++) {
      set(x0 + t, y);
      set(x1 - 1 - t, y);
    }
  }
  return img;
}
