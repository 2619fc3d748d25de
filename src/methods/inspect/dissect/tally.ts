/**
 * Network dissection's counts (Bau et al. 2017, §2.2), kept in one pass over the data in bounded
 * memory. Per unit k of a layer:
 * - a histogram of its activations over the dataset in value bins (./bins.ts), from which the
 *   top-quantile threshold T_k is read: the lower edge of the bin holding the ⌈q·n⌉-th largest of
 *   its n activations (within 2⁻⁷ relative of the exact order statistic, which it never exceeds);
 * - per bin, how many upsampled pixels fall in it, and how many of those lie in each concept.
 * The unit's mask M_k is the upsampled map at or above T_k, so |M_k ∩ L_c| and |M_k| are sums of
 * the bins at or above T_k's, and IoU_{k,c} = Σ|M_k ∩ L_c| / Σ|M_k ∪ L_c| over the dataset.
 *
 * Bins far below the threshold are never needed: each unit keeps a floor, raised after every
 * batch to the bin of its ⌈2·q·n⌉-th largest value so far (activations below it are only counted),
 * and the data pass gathers only the maps whose maximum reaches it. Should the final threshold
 * fall below a unit's floor, that unit's pixel counts are redone in a second pass (`recount`).
 */
import type { ConceptSample } from '../../../data/concepts.js';
import { binLowerEdge, binOfBits, nonFiniteBits } from './bins.js';
import { SparseUpsampler } from './upsample.js';

/** How far below the running quantile a unit's floor stays: the bin of the ⌈FLOOR_FACTOR·q·n⌉-th value. */
export const FLOOR_FACTOR = 2;

/** One unit's counts; arrays are indexed by bin − floor. */
export interface UnitCounts {
  /** Lowest bin counted per bin. */
  floor: number;
  /** Activations below the floor. */
  below: number;
  /** Activations per bin. */
  values: Float64Array;
  /** Upsampled pixels per bin. */
  pixels: Float64Array;
  /** Upsampled pixels per bin and concept, [bin × concepts]. */
  overlaps: Float64Array;
  /** The images where the unit's maximum is highest, [image, max], highest first (ties: lower image). */
  top: [number, number][];
}

/** Images kept per unit for its picture. */
export const TOP_IMAGES = 6;

/** Insert [image, value] into `top` (highest first) keeping at most `TOP_IMAGES`. */
export function offerTop(top: [number, number][], image: number, value: number): void {
  const before = (a: [number, number]) => value > a[1] || (value === a[1] && image < a[0]);
  if (top.length >= TOP_IMAGES && !before(top[top.length - 1])) return;
  let i = top.length;
  while (i > 0 && before(top[i - 1])) i--;
  top.splice(i, 0, [image, value]);
  if (top.length > TOP_IMAGES) top.pop();
}

export interface LayerCounts {
  channels: number;
  height: number;
  width: number;
  units: UnitCounts[];
}

export interface DissectionCounts {
  /** Top quantile q of each unit's activations that sets its threshold. */
  quantile: number;
  /** Concepts counted (overlaps have one column per concept). */
  concepts: number;
  /** Mask resolution [H, W]. */
  size: [number, number];
  /** Images counted. */
  images: number;
  /** Per concept, Σ|L_c| over the images counted. */
  conceptPixels: Float64Array;
  /** Per concept, images where it is present. */
  conceptImages: Float64Array;
  layers: Record<string, LayerCounts>;
}

/** Empty counts for `layers` (each [channels, height, width]). */
export function emptyCounts(
  layers: Record<string, { channels: number; height: number; width: number }>,
  options: { quantile: number; concepts: number; size: [number, number] },
): DissectionCounts {
  return {
    quantile: options.quantile,
    concepts: options.concepts,
    size: options.size,
    images: 0,
    conceptPixels: new Float64Array(options.concepts),
    conceptImages: new Float64Array(options.concepts),
    layers: Object.fromEntries(
      Object.entries(layers).map(([name, l]) => [
        name,
        {
          channels: l.channels,
          height: l.height,
          width: l.width,
          units: Array.from({ length: l.channels }, () => ({
            floor: 0,
            below: 0,
            values: new Float64Array(0),
            pixels: new Float64Array(0),
            overlaps: new Float64Array(0),
            top: [],
          })),
        },
      ]),
    ),
  };
}

/** A copy of `a` with room for `length` entries (the rest zero). */
function grown(a: Float64Array, length: number): Float64Array {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}

/** Make `u.values` reach bin `top` (inclusive). */
function reachValues(u: UnitCounts, top: number): void {
  const need = top - u.floor + 1;
  if (need > u.values.length) u.values = grown(u.values, Math.max(need, Math.ceil(1.5 * u.values.length)));
}

/** Make `u.pixels` and `u.overlaps` reach bin `top` (inclusive); they start at the floor when first needed. */
function reachPixels(u: UnitCounts, top: number, concepts: number): void {
  const need = top - u.floor + 1;
  if (need <= u.pixels.length) return;
  const length = Math.max(need, Math.ceil(1.5 * u.pixels.length));
  u.pixels = grown(u.pixels, length);
  u.overlaps = grown(u.overlaps, length * concepts);
}

/** Raise `u`'s floor to `floor`: activations below it are folded into `below`, pixel counts dropped. */
export function raiseFloor(u: UnitCounts, floor: number, concepts: number): void {
  const shift = floor - u.floor;
  if (shift <= 0) return;
  for (let b = 0; b < Math.min(shift, u.values.length); b++) u.below += u.values[b];
  // Also cut the room grown above the highest bin in use.
  const used = (a: Float64Array) => {
    let end = a.length;
    while (end > shift && a[end - 1] === 0) end--;
    return Math.max(end, shift);
  };
  const top = Math.max(used(u.values), used(u.pixels));
  const pixelsEnd = Math.min(top, u.pixels.length);
  u.values = u.values.slice(Math.min(shift, u.values.length), top);
  u.overlaps = u.overlaps.slice(Math.min(shift, pixelsEnd) * concepts, pixelsEnd * concepts);
  u.pixels = u.pixels.slice(Math.min(shift, pixelsEnd), pixelsEnd);
  u.floor = floor;
}

/** The bin holding the rank-th largest counted activation, or undefined when fewer than `rank` are above the floor. */
export function rankBin(u: UnitCounts, rank: number): number | undefined {
  let seen = 0;
  for (let i = u.values.length - 1; i >= 0; i--) {
    seen += u.values[i];
    if (seen >= rank) return u.floor + i;
  }
  return undefined;
}

/**
 * One image's concepts per pixel as bit sets: `words` 32-bit words per pixel, bit c of pixel p
 * set when concept c is there; `pixels[c]` is |L_c| in the image.
 */
export interface PixelConcepts {
  words: number;
  bits: Uint32Array;
  pixels: Float64Array;
}

export function pixelConcepts(
  sample: Pick<ConceptSample, 'concepts'>,
  area: number,
  concepts: number,
): PixelConcepts {
  const words = Math.max(1, Math.ceil(concepts / 32));
  const bits = new Uint32Array(area * words);
  const pixels = new Float64Array(concepts);
  for (const { concept, mask } of sample.concepts) {
    const word = concept >>> 5;
    const bit = 1 << (concept & 31);
    let n = 0;
    for (let p = 0; p < area; p++)
      if (mask[p]) {
        bits[p * words + word] |= bit;
        n++;
      }
    pixels[concept] = n;
  }
  return { words, bits, pixels };
}

/** Fold a batch's concept pixels into the counts (once per image, whatever the layers). */
export function countConcepts(counts: DissectionCounts, images: readonly PixelConcepts[]): void {
  for (const pc of images) {
    for (let c = 0; c < counts.concepts; c++) {
      counts.conceptPixels[c] += pc.pixels[c];
      if (pc.pixels[c] > 0) counts.conceptImages[c]++;
    }
    counts.images++;
  }
}

/** A batch of one layer as the data pass fetches it: the rows n·C + c whose maximum reached the floors, and their maps. */
export interface GatheredRows {
  /** Row ids, ascending, possibly with a leading duplicate of row 0 (which the graph always gathers). */
  rows: Int32Array;
  /** [rows × h·w] maps. */
  maps: Float32Array;
  /** Every row's maximum, [N·C]: each image is offered to every unit's top list. */
  max: Float32Array;
}

/** Scratch buffers for `countRows`, sized for one layer and mask resolution. */
export class RowCounter {
  readonly upsampler: SparseUpsampler;
  private readonly index: Int32Array;
  private readonly value: Float32Array;
  private readonly bits: Uint32Array;

  constructor(h: number, w: number, size: [number, number]) {
    this.upsampler = new SparseUpsampler(h, w, size[0], size[1]);
    this.index = new Int32Array(size[0] * size[1]);
    this.value = new Float32Array(size[0] * size[1]);
    this.bits = new Uint32Array(this.value.buffer);
  }

  /**
   * Count the gathered rows of one batch of `images` images (rows of later, padding images are
   * ignored). The data pass does all three steps; a recount does one at a time for `only`'s
   * units: `histogram` bins the activations, `raise` lifts the floors after it, `pixels` counts
   * the upsampled pixels at or above each floor and their concepts. Throws on a non-finite
   * activation, naming the layer, unit and image.
   */
  count(
    counts: DissectionCounts,
    layer: string,
    batch: GatheredRows,
    images: readonly number[],
    concepts: readonly PixelConcepts[],
    steps: { histogram: boolean; raise: boolean; pixels: boolean; only?: ReadonlySet<number> },
  ): void {
    const l = counts.layers[layer];
    const area = l.height * l.width;
    const K = counts.concepts;
    const { rows, maps } = batch;
    const mapBits = new Uint32Array(maps.buffer, maps.byteOffset, maps.length);
    const first = rows.length > 1 && rows[1] === rows[0] ? 1 : 0;
    const wanted = (k: number) =>
      Math.floor(rows[k] / l.channels) < images.length &&
      (!steps.only || steps.only.has(rows[k] % l.channels));
    if (steps.histogram) {
      const counted = new Float64Array(l.channels);
      for (let k = first; k < rows.length; k++) {
        if (!wanted(k)) continue;
        const c = rows[k] % l.channels;
        const u = l.units[c];
        let top = -1;
        for (let j = k * area; j < (k + 1) * area; j++) {
          const bits = mapBits[j];
          if (nonFiniteBits(bits))
            throw new Error(
              `layer "${layer}" unit ${c} is not finite (${maps[j]}) on image ${images[Math.floor(rows[k] / l.channels)]}`,
            );
          top = Math.max(top, binOfBits(bits));
        }
        if (top < u.floor) continue;
        reachValues(u, top);
        for (let j = k * area; j < (k + 1) * area; j++) {
          const b = binOfBits(mapBits[j]) - u.floor;
          if (b >= 0) {
            u.values[b]++;
            counted[c]++;
          }
        }
      }
      for (const [c, u] of l.units.entries())
        if (!steps.only || steps.only.has(c)) u.below += images.length * area - counted[c];
    }
    if (steps.raise)
      for (let r = 0; r < images.length * l.channels; r++)
        offerTop(l.units[r % l.channels].top, images[Math.floor(r / l.channels)], batch.max[r]);
    if (steps.raise) {
      const n = (counts.images + images.length) * area;
      const rank = Math.max(1, Math.ceil(FLOOR_FACTOR * counts.quantile * n));
      for (const [c, u] of l.units.entries()) {
        if (steps.only && !steps.only.has(c)) continue;
        const floor = rankBin(u, rank);
        if (floor !== undefined) raiseFloor(u, floor, K);
      }
    }
    if (!steps.pixels) return;
    const { index, value, bits } = this;
    for (let k = first; k < rows.length; k++) {
      if (!wanted(k)) continue;
      const n = Math.floor(rows[k] / l.channels);
      const c = rows[k] % l.channels;
      const u = l.units[c];
      const pc = concepts[n];
      const found = this.upsampler.collect(maps, k * area, binLowerEdge(u.floor), index, value);
      for (let i = 0; i < found; i++) {
        const b = binOfBits(bits[i]);
        if (b - u.floor >= u.pixels.length) reachPixels(u, b, K);
        const at = b - u.floor;
        u.pixels[at]++;
        const p = index[i] * pc.words;
        for (let w = 0; w < pc.words; w++) {
          let set = pc.bits[p + w];
          while (set !== 0) {
            const low = set & -set;
            u.overlaps[at * K + 32 * w + 31 - Math.clz32(low)]++;
            set ^= low;
          }
        }
      }
    }
  }
}

/** A unit's result. */
export interface UnitResult {
  /** The unit's threshold T_k: its mask is the upsampled map ≥ T_k. */
  threshold: number;
  /** The bin T_k is the lower edge of. */
  thresholdBin: number;
  /** The bin of the ⌈q·n⌉-th largest activation (T_k's bin, or the one below when that is the unit's lowest). */
  quantileBin: number;
  /** Σ|M_k| over the dataset. */
  maskPixels: number;
  /** IoU with every concept, by concept id. */
  iou: Float64Array;
  /** Whether the counts cover the threshold (false: it fell below the unit's floor, so the unit needs a recount). */
  complete: boolean;
}

/**
 * The threshold and IoUs of unit `u` of a layer with `area` cells per map. When the quantile's bin
 * is the unit's lowest activation (a unit silent on more than 1 − q of the data), the mask takes
 * the bins above it, so it never covers every pixel.
 */
export function unitResult(counts: DissectionCounts, u: UnitCounts, area: number): UnitResult {
  const K = counts.concepts;
  const n = counts.images * area;
  const rank = Math.max(1, Math.ceil(counts.quantile * n));
  const quantileBin = rankBin(u, rank);
  const iou = new Float64Array(K);
  if (quantileBin === undefined)
    return { threshold: Number.NaN, thresholdBin: -1, quantileBin: -1, maskPixels: 0, iou, complete: false };
  let bin = quantileBin;
  let lowest = u.below === 0;
  for (let i = 0; i < bin - u.floor && lowest; i++) if (u.values[i] > 0) lowest = false;
  if (lowest) bin++;
  let maskPixels = 0;
  const overlap = new Float64Array(K);
  for (let i = Math.max(0, bin - u.floor); i < u.pixels.length; i++) {
    maskPixels += u.pixels[i];
    for (let c = 0; c < K; c++) overlap[c] += u.overlaps[i * K + c];
  }
  for (let c = 0; c < K; c++) {
    const union = maskPixels + counts.conceptPixels[c] - overlap[c];
    iou[c] = union > 0 ? overlap[c] / union : 0;
  }
  return { threshold: binLowerEdge(bin), thresholdBin: bin, quantileBin, maskPixels, iou, complete: true };
}

/** Prepare units for the first recount step: activations counted again from the lowest bin. */
export function resetHistograms(counts: DissectionCounts, layer: string, units: Iterable<number>): void {
  for (const c of units) {
    const u = counts.layers[layer].units[c];
    u.floor = 0;
    u.below = 0;
    u.values = new Float64Array(0);
    u.pixels = new Float64Array(0);
    u.overlaps = new Float64Array(0);
  }
}

/** Prepare units for the second recount step: floors at their quantile bins, pixels cleared. */
export function resetPixels(
  counts: DissectionCounts,
  layer: string,
  units: ReadonlyMap<number, number>,
): void {
  for (const [c, bin] of units) {
    const u = counts.layers[layer].units[c];
    raiseFloor(u, bin, counts.concepts);
    u.pixels = new Float64Array(u.values.length);
    u.overlaps = new Float64Array(u.values.length * counts.concepts);
  }
}

/**
 * Merge counts of disjoint shards of the same dissection; the results (thresholds, IoUs, labels)
 * equal those of one pass over the union wherever the merged counts are complete.
 */
export function mergeCounts(parts: readonly DissectionCounts[]): DissectionCounts {
  if (parts.length === 0) throw new Error('nothing to merge');
  const [first] = parts;
  const K = first.concepts;
  const out = emptyCounts(first.layers, first);
  for (const p of parts) {
    if (p.concepts !== K || p.quantile !== first.quantile || p.size.join() !== first.size.join())
      throw new Error('cannot merge: the shards count different concepts, quantiles or mask sizes');
    out.images += p.images;
    for (let c = 0; c < K; c++) {
      out.conceptPixels[c] += p.conceptPixels[c];
      out.conceptImages[c] += p.conceptImages[c];
    }
  }
  for (const [name, l] of Object.entries(out.layers)) {
    for (const [c, u] of l.units.entries()) {
      const units = parts.map((p) => {
        const layer = p.layers[name];
        if (!layer || layer.channels !== l.channels)
          throw new Error(`cannot merge: layer "${name}" differs between shards`);
        return layer.units[c];
      });
      // The merged floor is the highest: below it no shard has every pixel.
      u.floor = Math.max(...units.map((v) => v.floor));
      for (const v of units) {
        const copy = {
          ...v,
          values: v.values.slice(),
          pixels: v.pixels.slice(),
          overlaps: v.overlaps.slice(),
        };
        raiseFloor(copy, u.floor, K);
        u.below += copy.below;
        if (copy.values.length > 0) reachValues(u, u.floor + copy.values.length - 1);
        if (copy.pixels.length > 0) reachPixels(u, u.floor + copy.pixels.length - 1, K);
        for (let i = 0; i < copy.values.length; i++) u.values[i] += copy.values[i];
        for (let i = 0; i < copy.pixels.length; i++) u.pixels[i] += copy.pixels[i];
        for (let i = 0; i < copy.overlaps.length; i++) u.overlaps[i] += copy.overlaps[i];
        for (const [image, value] of v.top) offerTop(u.top, image, value);
      }
    }
  }
  return out;
}
