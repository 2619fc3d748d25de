/**
 * Causal effects of a generator's units on what it draws (Bau et al. 2019, "GAN Dissection", §3.2):
 * the average causal effect of forcing units U is δ_{U→c} = E_z[s_c(G(z) with U forced)] −
 * E_z[s_c(G(z))], where s_c is the fraction of the image the segmenter labels c. Ablation forces
 * units to 0 everywhere; insertion forces them to a high activation within a region.
 * Units are ranked by the effect of ablating each one alone (the paper optimises a soft
 * per-unit α instead; single-unit ablation is its discrete, training-free form).
 */
import type { Edit, GanPair } from './pair.js';

/** Mean fraction of the image segmented as each class, over `n` segmentations [n · area]. */
export function classFractions(classes: Uint8Array, n: number, area: number, k: number): Float64Array {
  const out = new Float64Array(k);
  for (let i = 0; i < n * area; i++) out[classes[i]]++;
  for (let c = 0; c < k; c++) out[c] /= n * area;
  return out;
}

/** An edit forcing `units` of a layer to `value` (one per unit, or one for all) where `region` (H·W, 1 = inside; default everywhere). */
export function unitEdit(
  pair: GanPair,
  layer: string,
  units: readonly number[],
  value: number | Float32Array,
  region?: Uint8Array,
): Edit {
  const { channels, height, width } = pair.layer(layer);
  const area = height * width;
  const mask = new Float32Array(channels * area);
  const values = new Float32Array(channels);
  for (const u of units) {
    if (!Number.isInteger(u) || u < 0 || u >= channels)
      throw new Error(`unit ${u} is out of range: layer "${layer}" has units 0..${channels - 1}`);
    for (let p = 0; p < area; p++) mask[u * area + p] = region ? region[p] : 1;
    values[u] = typeof value === 'number' ? value : value[u];
  }
  return { layer, mask, value: values };
}

/** An ablation of `units`: forced to 0 everywhere. */
export const ablation = (pair: GanPair, layer: string, units: readonly number[]): Edit =>
  unitEdit(pair, layer, units, 0);

export interface AblationEffects {
  /** Class fractions of the unedited samples. */
  base: Float64Array;
  /** Per unit, the change of every class's fraction when that unit alone is ablated. */
  effects: Float64Array[];
}

/**
 * The effect of ablating each unit of `layer` alone on every class's area, over latents z [n · D].
 *
 * @example
 * ```ts
 * const { base, effects } = await unitAblationEffects(pair, 'block2', latents(0, 0, 200, 64), 200);
 * const circle = pair.classIndex('circle');
 * const ranked = rankUnits(effects, circle); // units whose ablation removes most circle first
 * ```
 */
export async function unitAblationEffects(
  pair: GanPair,
  layer: string,
  z: Float32Array,
  n: number,
  onProgress?: (done: number, total: number) => void,
): Promise<AblationEffects> {
  const { channels } = pair.layer(layer);
  const k = pair.classes.length;
  const area = pair.image[1] * pair.image[2];
  const base = classFractions((await pair.generate(z, n)).classes, n, area, k);
  const effects: Float64Array[] = [];
  for (let u = 0; u < channels; u++) {
    const after = classFractions(
      (await pair.generate(z, n, { edit: ablation(pair, layer, [u]) })).classes,
      n,
      area,
      k,
    );
    effects.push(after.map((v, c) => v - base[c]));
    onProgress?.(u + 1, channels);
  }
  return { base, effects };
}

/** Units ordered by how much ablating each alone lowers class `c` (most first; ties: lower unit). */
export function rankUnits(effects: readonly Float64Array[], c: number): number[] {
  return effects.map((_, u) => u).sort((a, b) => effects[a][c] - effects[b][c] || a - b);
}

export interface CurvePoint {
  /** Units ablated (the first k of the ranking). */
  k: number;
  /** Class fractions with them ablated. */
  fractions: number[];
  /** Change of the target class's area relative to the unedited samples: (after − before) / before. */
  relativeChange: number;
  /** The same for the other classes together, leaving out `ignore` (e.g. the background). */
  otherChange: number;
}

/** Class areas with the first k ranked units ablated, for each k in `ks`. */
export async function ablationCurve(
  pair: GanPair,
  layer: string,
  ranked: readonly number[],
  c: number,
  ks: readonly number[],
  z: Float32Array,
  n: number,
  base: Float64Array,
  ignore: readonly number[] = [],
): Promise<CurvePoint[]> {
  const area = pair.image[1] * pair.image[2];
  const others = pair.classes.map((_, j) => j).filter((j) => j !== c && !ignore.includes(j));
  const sum = (f: ArrayLike<number>) => others.reduce((s, j) => s + f[j], 0);
  const points: CurvePoint[] = [];
  for (const k of ks) {
    const edit = ablation(pair, layer, ranked.slice(0, k));
    const after = classFractions((await pair.generate(z, n, { edit })).classes, n, area, pair.classes.length);
    points.push({
      k,
      fractions: [...after],
      relativeChange: (after[c] - base[c]) / base[c],
      otherChange: (sum(after) - sum(base)) / sum(base),
    });
  }
  return points;
}

/** Per unit of `layer`, the q-quantile of its activations over latents z [n · D] (the value insertion forces). */
export async function unitQuantiles(
  pair: GanPair,
  layer: string,
  z: Float32Array,
  n: number,
  q = 0.99,
): Promise<Float32Array> {
  const { channels, height, width } = pair.layer(layer);
  const area = height * width;
  const maps = (await pair.generate(z, n, { fetch: [layer] })).fetched[layer];
  const out = new Float32Array(channels);
  const values = new Float32Array(n * area);
  for (let u = 0; u < channels; u++) {
    for (let i = 0; i < n; i++)
      values.set(maps.subarray((i * channels + u) * area, (i * channels + u + 1) * area), i * area);
    const sorted = values.slice().sort();
    out[u] = sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }
  return out;
}

/** Layer cells within Chebyshev distance `radius` of the cell holding image point (x, y). */
export function regionAround(pair: GanPair, layer: string, at: [number, number], radius: number): Uint8Array {
  const { height, width } = pair.layer(layer);
  const [, h, w] = pair.image;
  const [x, y] = at;
  if (!(x >= 0 && x < w && y >= 0 && y < h))
    throw new Error(`point (${x}, ${y}) is outside the ${w}×${h} image`);
  const cx = Math.floor((x * width) / w);
  const cy = Math.floor((y * height) / h);
  const region = new Uint8Array(height * width);
  for (let j = 0; j < height; j++)
    for (let i = 0; i < width; i++)
      if (Math.abs(i - cx) <= radius && Math.abs(j - cy) <= radius) region[j * width + i] = 1;
  return region;
}

/** The image pixels a layer region covers (each cell's pixels). */
export function regionPixels(pair: GanPair, layer: string, region: Uint8Array): Uint8Array {
  const { height, width } = pair.layer(layer);
  const [, h, w] = pair.image;
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      out[y * w + x] = region[Math.floor((y * height) / h) * width + Math.floor((x * width) / w)];
  return out;
}

export interface InsertionResult {
  trials: number;
  /** Trials where class c's area inside the region grew by at least `minimumGain` of the region. */
  appeared: number;
  /** Mean fraction of the region segmented as c before and after. */
  before: number;
  after: number;
  /** Mean change of c's area outside the region, as a fraction of the image. */
  outside: number;
}

/**
 * Insert `units` (forced to `value` inside `region`) into each sample and measure class c there.
 * A trial counts as the class appearing when c's pixels inside the region grow by at least
 * `minimumGain` (default 0.1) of the region's pixels.
 */
export async function insertionTrials(
  pair: GanPair,
  edit: Edit,
  region: Uint8Array,
  c: number,
  z: Float32Array,
  n: number,
  minimumGain = 0.1,
): Promise<InsertionResult> {
  const area = pair.image[1] * pair.image[2];
  const inside = regionPixels(pair, edit.layer, region);
  const size = inside.reduce((a, b) => a + b, 0);
  const before = (await pair.generate(z, n)).classes;
  const after = (await pair.generate(z, n, { edit })).classes;
  let appeared = 0;
  let sumBefore = 0;
  let sumAfter = 0;
  let outside = 0;
  for (let i = 0; i < n; i++) {
    let a = 0;
    let b = 0;
    for (let p = 0; p < area; p++) {
      const was = before[i * area + p] === c ? 1 : 0;
      const is = after[i * area + p] === c ? 1 : 0;
      if (inside[p]) {
        b += was;
        a += is;
      } else outside += (is - was) / area;
    }
    if (a - b >= minimumGain * size) appeared++;
    sumBefore += b / size;
    sumAfter += a / size;
  }
  return { trials: n, appeared, before: sumBefore / n, after: sumAfter / n, outside: outside / n };
}
