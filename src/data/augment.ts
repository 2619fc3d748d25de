/** Training-time augmentation on C×H×W images in [0, 1]. */
import { sampleBilinear } from '../maths/bilinear.js';
import type { Random } from '../maths/random.js';

export interface Augmentation {
  /** Largest translation in pixels along each axis (uniform integer shift; edges replicate). */
  shift?: number;
  /** Mirror left–right with probability 1/2 (only where the classes are mirror-invariant). */
  flip?: boolean;
  /** Largest rotation in degrees (uniform in ±rotate, about the centre, bilinear). */
  rotate?: number;
  /** Largest relative zoom (scale uniform in [1 − zoom, 1 + zoom]). */
  zoom?: number;
}

/** Shift by (dx, dy) pixels, replicating edge pixels, and optionally mirror. */
export function transformImage(
  image: Float32Array,
  channels: number,
  height: number,
  width: number,
  dx: number,
  dy: number,
  mirror: boolean,
): Float32Array {
  const out = new Float32Array(image.length);
  const area = height * width;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const sy = Math.min(height - 1, Math.max(0, y - dy));
      for (let x = 0; x < width; x++) {
        const mx = mirror ? width - 1 - x : x;
        const sx = Math.min(width - 1, Math.max(0, mx - dx));
        out[c * area + y * width + x] = image[c * area + sy * width + sx];
      }
    }
  }
  return out;
}

/**
 * Rotate by `angle` radians and scale by `scale` about the image centre, sampling bilinearly with
 * replicated edges (the inverse map: each output pixel reads the source at R(−angle)·p / scale).
 */
export function affineImage(
  image: Float32Array,
  channels: number,
  height: number,
  width: number,
  angle: number,
  scale: number,
): Float32Array {
  const out = new Float32Array(image.length);
  const area = height * width;
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = cos * (x - cx) + sin * (y - cy) + cx;
      const sy = -sin * (x - cx) + cos * (y - cy) + cy;
      for (let c = 0; c < channels; c++)
        out[c * area + y * width + x] = sampleBilinear(image, c, height, width, sx, sy);
    }
  }
  return out;
}

/** A random augmentation drawn from `rng`. */
export function augmenter(
  a: Augmentation,
  channels: number,
  height: number,
  width: number,
  rng: Random,
): (image: Float32Array) => Float32Array {
  const s = a.shift ?? 0;
  return (input) => {
    let image = input;
    if (a.rotate || a.zoom) {
      const angle = ((a.rotate ?? 0) * Math.PI * (2 * rng.next() - 1)) / 180;
      const scale = 1 + (a.zoom ?? 0) * (2 * rng.next() - 1);
      image = affineImage(image, channels, height, width, angle, scale);
    }
    const dx = s > 0 ? Math.floor(rng.next() * (2 * s + 1)) - s : 0;
    const dy = s > 0 ? Math.floor(rng.next() * (2 * s + 1)) - s : 0;
    const mirror = a.flip === true && rng.next() < 0.5;
    return dx === 0 && dy === 0 && !mirror
      ? image
      : transformImage(image, channels, height, width, dx, dy, mirror);
  };
}
