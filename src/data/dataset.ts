/**
 * Labelled image datasets. Images are CHW float32 in [0, 1] at the dataset's size; the model card's
 * preprocessing (see ./preprocess.ts) turns them into model inputs.
 */
import { permutation, Random } from '../maths/random.js';

/** One drawn object: its class, its visible pixels (H×W, 1 = visible) and their box. */
export interface ObjectAnnotation {
  classIndex: number;
  mask: Uint8Array;
  /** [x0, y0, x1, y1], end-exclusive, in pixels. */
  box: [number, number, number, number];
}

export interface Sample {
  /** C×H×W, values in [0, 1]. */
  image: Float32Array;
  label: number;
  objects?: ObjectAnnotation[];
}

/**
 * The union of the masks of a sample's objects of its own class (what a pointing game scores a
 * class's map against), or undefined when it has none.
 * @example
 * classMask(shapesSplits().test.get(0)); // Uint8Array of H·W, 1 on the labelled objects
 */
export function classMask(sample: Sample): Uint8Array | undefined {
  const own = sample.objects?.filter((o) => o.classIndex === sample.label) ?? [];
  if (own.length === 0) return undefined;
  const union = new Uint8Array(own[0].mask.length);
  for (const o of own) for (let j = 0; j < union.length; j++) union[j] |= o.mask[j];
  return union;
}

export interface Dataset {
  readonly name: string;
  readonly classes: readonly string[];
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly length: number;
  get(index: number): Sample;
}

/** Samples loaded one at a time on demand (image folders too large to hold in memory). */
export interface SampleSource {
  readonly name: string;
  readonly classes: readonly string[];
  readonly length: number;
  load(index: number): Sample | Promise<Sample>;
}

/** A dataset's fixed train and test splits, and a validation split where the dataset has one. */
export interface DatasetSplits {
  train: Dataset;
  test: Dataset;
  /** Held out from both, for choosing settings (such as a box threshold) without touching test. */
  validation?: Dataset;
}

/** A dataset over a list of samples held in memory. */
export function arrayDataset(
  meta: Pick<Dataset, 'name' | 'classes' | 'channels' | 'height' | 'width'>,
  samples: readonly Sample[],
): Dataset {
  return { ...meta, length: samples.length, get: (i) => samples[i] };
}

/** The samples of `data` at `indices`, in that order. */
export function subset(data: Dataset, indices: readonly number[], name = data.name): Dataset {
  return {
    name,
    classes: data.classes,
    channels: data.channels,
    height: data.height,
    width: data.width,
    length: indices.length,
    get: (i) => {
      if (i < 0 || i >= indices.length)
        throw new RangeError(`${name}: index ${i} outside 0..${indices.length - 1}`);
      return data.get(indices[i]);
    },
  };
}

/**
 * Split off every `1/fraction`-th sample, spread evenly, as a held-out part; deterministic, and
 * stratified when the data is ordered by class.
 */
export function holdOut(data: Dataset, fraction: number): { kept: Dataset; heldOut: Dataset } {
  if (!(fraction > 0 && fraction < 1))
    throw new Error(`holdOut: fraction must be in (0, 1), got ${fraction}`);
  const kept: number[] = [];
  const held: number[] = [];
  let acc = 0;
  for (let i = 0; i < data.length; i++) {
    acc += fraction;
    if (acc >= 1) {
      acc -= 1;
      held.push(i);
    } else kept.push(i);
  }
  return { kept: subset(data, kept, `${data.name}/train`), heldOut: subset(data, held, `${data.name}/val`) };
}

/**
 * The same images with their labels permuted (a seeded shuffle of the label list, so class
 * frequencies are kept): the data of Adebayo et al.'s data randomisation test (2018, §3.2).
 *
 * @example
 * ```ts
 * const noise = shuffledLabels(splits.train, 1); // train on it: what is left is memorisation
 * ```
 */
export function shuffledLabels(data: Dataset, seed: number): Dataset {
  const order = permutation(data.length, new Random(seed));
  const labels = order.map((j) => data.get(j).label);
  return {
    ...data,
    name: `${data.name}/shuffled-labels`,
    get: (i) => ({ ...data.get(i), label: labels[i] }),
  };
}

/** Count of samples per class. */
export function classCounts(data: Dataset): number[] {
  const counts = new Array(data.classes.length).fill(0);
  for (let i = 0; i < data.length; i++) counts[data.get(i).label]++;
  return counts;
}

/**
 * One axis of `resizeImage`: output i blends source `lo[i]` and `hi[i]` with weight `t[i]` on
 * `hi` (half-pixel centres, as align_corners=false; edges replicate).
 */
export function bilinearAxis(from: number, to: number): { lo: Int32Array; hi: Int32Array; t: Float32Array } {
  const lo = new Int32Array(to);
  const hi = new Int32Array(to);
  const t = new Float32Array(to);
  for (let i = 0; i < to; i++) {
    const s = Math.min(from - 1, Math.max(0, ((i + 0.5) * from) / to - 0.5));
    lo[i] = Math.floor(s);
    hi[i] = Math.min(from - 1, lo[i] + 1);
    t[i] = s - lo[i];
  }
  return { lo, hi, t };
}

/** Bilinearly resample a C×H×W image to C×height×width (pixel centres aligned, as align_corners=false). */
export function resizeImage(
  image: Float32Array,
  channels: number,
  h: number,
  w: number,
  height: number,
  width: number,
): Float32Array {
  if (h === height && w === width) return image;
  // Separable: each output row/column blends two source rows/columns.
  const ys = bilinearAxis(h, height);
  const xs = bilinearAxis(w, width);
  const out = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++) {
    const src = c * h * w;
    const dst = c * height * width;
    for (let y = 0; y < height; y++) {
      const r0 = src + ys.lo[y] * w;
      const r1 = src + ys.hi[y] * w;
      const ty = ys.t[y];
      for (let x = 0; x < width; x++) {
        const x0 = xs.lo[x];
        const x1 = xs.hi[x];
        const tx = xs.t[x];
        const top = image[r0 + x0] * (1 - tx) + image[r0 + x1] * tx;
        const bottom = image[r1 + x0] * (1 - tx) + image[r1 + x1] * tx;
        out[dst + y * width + x] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return out;
}

/** The dataset seen at another size (bilinear), e.g. MNIST for a model that takes 32×32. */
export function resized(data: Dataset, height: number, width: number): Dataset {
  if (data.height === height && data.width === width) return data;
  return {
    ...data,
    height,
    width,
    get: (i) => {
      const s = data.get(i);
      return {
        ...s,
        image: resizeImage(s.image, data.channels, data.height, data.width, height, width),
        objects: undefined,
      };
    },
  };
}
