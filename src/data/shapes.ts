/**
 * A procedural, seeded shapes dataset: 1–3 non-overlapping objects (circle, square, triangle, star,
 * cross, ring) with random colours, sizes, positions and rotations on a textured, noisy
 * background. The label is the class of the largest object, which is always clearly the largest
 * (every other object's radius is at most 0.65 of its radius). Each object's mask (pixel centres
 * inside the shape) and box are kept for localisation and dissection metrics. Sample i depends only
 * on (seed, i), so any sample can be drawn alone and the same seed gives the same bytes.
 */
import { indexSeed, Random } from '../maths/random.js';
import type { Dataset, DatasetSplits, ObjectAnnotation, Sample } from './dataset.js';

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star', 'cross', 'ring'] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

export interface ShapesOptions {
  /** Image side in pixels (default 64). */
  size?: number;
  seed?: number;
  /** Number of samples. */
  length: number;
  /** Standard deviation of the per-pixel Gaussian noise added last (default 0.03). */
  noise?: number;
}

/** An object as drawn: annotation plus its colour (RGB in [0, 1]). */
export interface ShapeObject extends ObjectAnnotation {
  color: [number, number, number];
  /** Centre (x, y) and radius in pixels, rotation in radians. */
  cx: number;
  cy: number;
  radius: number;
  rotation: number;
}

export type Point = [number, number];

const regular = (n: number, r: number, phase: number): Point[] =>
  Array.from({ length: n }, (_, i) => {
    const a = phase + (2 * Math.PI * i) / n;
    return [r * Math.cos(a), r * Math.sin(a)];
  });

/** Radius of a star's inner vertices in its unit frame. */
export const STAR_INNER_RADIUS = 0.42;
/** Radius of a ring's hole in its unit frame (the ring is 0.68 ± 0.26). */
export const RING_HOLE_RADIUS = 0.42;
const STAR: Point[] = Array.from({ length: 10 }, (_, i) => {
  const a = -Math.PI / 2 + (Math.PI * i) / 5;
  const r = i % 2 === 0 ? 1 : STAR_INNER_RADIUS;
  return [r * Math.cos(a), r * Math.sin(a)];
});
/** Half-width of a cross's arms in its unit frame. */
export const CROSS_ARM = 0.3;
const ARM = CROSS_ARM;
const CROSS: Point[] = [
  [-ARM, -1],
  [ARM, -1],
  [ARM, -ARM],
  [1, -ARM],
  [1, ARM],
  [ARM, ARM],
  [ARM, 1],
  [-ARM, 1],
  [-ARM, ARM],
  [-1, ARM],
  [-1, -ARM],
  [-ARM, -ARM],
];
const POLYGONS: Partial<Record<ShapeClass, Point[]>> = {
  square: regular(4, 0.95, Math.PI / 4),
  triangle: regular(3, 1, -Math.PI / 2),
  star: STAR,
  cross: CROSS,
};

/** The vertices of a polygonal shape in its unit frame (undefined for circle and ring). */
export const shapePolygon = (shape: ShapeClass): readonly Point[] | undefined => POLYGONS[shape];

/** (x, y) in pixels seen in an object's unit frame: centred, unrotated, radius 1 (as drawn). */
export function unitFrame(
  o: Pick<ShapeObject, 'cx' | 'cy' | 'radius' | 'rotation'>,
  x: number,
  y: number,
): Point {
  const cos = Math.cos(-o.rotation);
  const sin = Math.sin(-o.rotation);
  const dx = x - o.cx;
  const dy = y - o.cy;
  return [(dx * cos - dy * sin) / o.radius, (dx * sin + dy * cos) / o.radius];
}

/** Signed distance from (x, y) to a polygon's boundary: negative inside (even–odd rule). */
function polygonDistance(poly: readonly Point[], x: number, y: number): number {
  let d = Number.POSITIVE_INFINITY;
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [ax, ay] = poly[j];
    const [bx, by] = poly[i];
    const ex = bx - ax;
    const ey = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * ex + (y - ay) * ey) / (ex * ex + ey * ey)));
    d = Math.min(d, Math.hypot(x - ax - t * ex, y - ay - t * ey));
    if (ay > y !== by > y && x < ax + ((y - ay) * ex) / ey) inside = !inside;
  }
  return inside ? -d : d;
}

/** Signed distance in the shape's unit frame (radius 1). */
export function shapeDistance(shape: ShapeClass, x: number, y: number): number {
  const poly = POLYGONS[shape];
  if (poly) return polygonDistance(poly, x, y);
  const r = Math.hypot(x, y);
  return shape === 'circle' ? r - 0.9 : Math.abs(r - 0.68) - 0.26;
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

const luminance = (c: readonly number[]) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

/** Smooth value noise: a g×g grid of random values, bicubically (smoothstep) interpolated. */
function valueNoise(rng: Random, size: number, grid: number): Float32Array {
  const g = new Float32Array((grid + 1) * (grid + 1));
  for (let i = 0; i < g.length; i++) g[i] = rng.next();
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const fy = ((y + 0.5) / size) * grid;
    const iy = Math.min(grid - 1, Math.floor(fy));
    const ty = fy - iy;
    const sy = ty * ty * (3 - 2 * ty);
    for (let x = 0; x < size; x++) {
      const fx = ((x + 0.5) / size) * grid;
      const ix = Math.min(grid - 1, Math.floor(fx));
      const tx = fx - ix;
      const sx = tx * tx * (3 - 2 * tx);
      const a = g[iy * (grid + 1) + ix];
      const b = g[iy * (grid + 1) + ix + 1];
      const c = g[(iy + 1) * (grid + 1) + ix];
      const d = g[(iy + 1) * (grid + 1) + ix + 1];
      out[y * size + x] = (a * (1 - sx) + b * sx) * (1 - sy) + (c * (1 - sx) + d * sx) * sy;
    }
  }
  return out;
}

/** Draw sample `index` of the shapes dataset seeded with `seed`. */
export function drawShapes(
  seed: number,
  index: number,
  size = 64,
  noise = 0.03,
): Sample & { objects: ShapeObject[] } {
  const { clean: _, ...sample } = renderShapes(seed, index, size, noise);
  return sample;
}

/** `drawShapes` plus the image before noise (`clean`), which concept data reads colours from. */
export function renderShapes(
  seed: number,
  index: number,
  size = 64,
  noise = 0.03,
): Sample & { objects: ShapeObject[]; clean: Float32Array } {
  const rng = new Random(indexSeed(seed, index));
  const area = size * size;
  const image = new Float32Array(3 * area);

  // Background: a muted base colour, two octaves of value noise, faint stripes.
  const base = hsvToRgb(rng.next(), rng.uniform(0, 0.35), rng.uniform(0.3, 0.7));
  const coarse = valueNoise(rng, size, 3);
  const fine = valueNoise(rng, size, 12);
  const angle = rng.uniform(0, Math.PI);
  const freq = rng.uniform(0.15, 0.6);
  const stripes = rng.uniform(0, 0.06);
  const tint = [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const v =
        0.25 * (coarse[p] - 0.5) +
        0.1 * (fine[p] - 0.5) +
        stripes * Math.sin(freq * (x * Math.cos(angle) + y * Math.sin(angle)));
      for (let c = 0; c < 3; c++) image[c * area + p] = base[c] + v * (1 + 0.3 * tint[c]);
    }
  }
  const bgLum = luminance(base);

  // Objects: the largest first in the list (it carries the label), the others smaller.
  const count = 1 + Math.floor(rng.next() * 3);
  const placed: { cx: number; cy: number; radius: number }[] = [];
  const specs: Omit<ShapeObject, 'mask' | 'box'>[] = [];
  for (let k = 0; k < count; k++) {
    const main = k === 0;
    const radius = main ? rng.uniform(0.2, 0.34) * size : rng.uniform(0.1 * size, 0.65 * specs[0].radius);
    let spot: { cx: number; cy: number } | undefined;
    for (let attempt = 0; attempt < 30 && !spot; attempt++) {
      const cx = rng.uniform(radius + 1, size - radius - 1);
      const cy = rng.uniform(radius + 1, size - radius - 1);
      if (placed.every((o) => Math.hypot(o.cx - cx, o.cy - cy) > o.radius + radius + 1)) spot = { cx, cy };
    }
    const classIndex = Math.floor(rng.next() * SHAPE_CLASSES.length);
    const rotation = rng.uniform(0, 2 * Math.PI);
    let color = hsvToRgb(rng.next(), rng.uniform(0.5, 1), rng.uniform(0.5, 1));
    for (let tries = 0; tries < 20 && Math.abs(luminance(color) - bgLum) < 0.18; tries++)
      color = hsvToRgb(
        rng.next(),
        rng.uniform(0.5, 1),
        rng.next() < 0.5 ? rng.uniform(0.05, 0.3) : rng.uniform(0.7, 1),
      );
    if (!spot) continue; // no room left: fewer objects (never the first: it is placed on an empty canvas)
    placed.push({ ...spot, radius });
    specs.push({ classIndex, color, ...spot, radius, rotation });
  }

  const objects: ShapeObject[] = specs.map((s) => {
    const mask = new Uint8Array(area);
    const shape = SHAPE_CLASSES[s.classIndex];
    let x0 = size;
    let y0 = size;
    let x1 = 0;
    let y1 = 0;
    const lo = Math.max(0, Math.floor(s.cx - s.radius - 2));
    const hi = Math.min(size, Math.ceil(s.cx + s.radius + 2));
    const top = Math.max(0, Math.floor(s.cy - s.radius - 2));
    const bottom = Math.min(size, Math.ceil(s.cy + s.radius + 2));
    for (let y = top; y < bottom; y++) {
      for (let x = lo; x < hi; x++) {
        const [u, v] = unitFrame(s, x + 0.5, y + 0.5);
        const d = shapeDistance(shape, u, v) * s.radius;
        // Anti-aliased coverage from the signed distance in pixels.
        const alpha = Math.max(0, Math.min(1, 0.5 - d));
        if (alpha === 0) continue;
        const p = y * size + x;
        for (let c = 0; c < 3; c++)
          image[c * area + p] = image[c * area + p] * (1 - alpha) + s.color[c] * alpha;
        if (d < 0) {
          mask[p] = 1;
          x0 = Math.min(x0, x);
          y0 = Math.min(y0, y);
          x1 = Math.max(x1, x + 1);
          y1 = Math.max(y1, y + 1);
        }
      }
    }
    return { ...s, mask, box: [x0, y0, x1, y1] };
  });

  const clean = image.slice();
  for (let i = 0; i < image.length; i++) {
    const v = image[i] + (noise > 0 ? noise * rng.normal() : 0);
    image[i] = Math.min(1, Math.max(0, v));
  }
  for (let i = 0; i < clean.length; i++) clean[i] = Math.min(1, Math.max(0, clean[i]));
  return { image, clean, label: objects[0].classIndex, objects };
}

/**
 * The shapes dataset: `length` samples drawn on demand from `seed`.
 *
 * @example
 * ```ts
 * const data = shapesDataset({ length: 100, seed: 1 });
 * const { image, label, objects } = data.get(0); // image: 3×64×64 in [0, 1]
 * ```
 */
export function shapesDataset(options: ShapesOptions): Dataset {
  const size = options.size ?? 64;
  const seed = options.seed ?? 0;
  const noise = options.noise ?? 0.03;
  if (!Number.isInteger(size) || size < 16)
    throw new Error(`shapes: size must be an integer ≥ 16, got ${size}`);
  if (!Number.isInteger(options.length) || options.length < 0)
    throw new Error(`shapes: length must be a non-negative integer, got ${options.length}`);
  return {
    name: `shapes(seed=${seed})`,
    classes: SHAPE_CLASSES,
    channels: 3,
    height: size,
    width: size,
    length: options.length,
    get: (i) => {
      if (!Number.isInteger(i) || i < 0 || i >= options.length)
        throw new RangeError(`shapes: index ${i} outside 0..${options.length - 1}`);
      return drawShapes(seed, i, size, noise);
    },
  };
}

/** Fixed splits: train from seed 1, test from seed 2, validation from seed 3 (8,000, 2,000 and 2,000 samples by default). */
export function shapesSplits(
  options: { size?: number; train?: number; test?: number; validation?: number } = {},
): DatasetSplits {
  const size = options.size ?? 64;
  const train = { ...shapesDataset({ size, seed: 1, length: options.train ?? 8000 }), name: 'shapes/train' };
  const test = { ...shapesDataset({ size, seed: 2, length: options.test ?? 2000 }), name: 'shapes/test' };
  const validation = {
    ...shapesDataset({ size, seed: 3, length: options.validation ?? 2000 }),
    name: 'shapes/validation',
  };
  return { train, test, validation };
}
