/**
 * GAN dissection's first step (Bau et al. 2019, §3.1): a generator layer's units are scored
 * against the classes a segmenter finds in the generated images, with network dissection's
 * machinery (../dissect): each unit's map, upsampled to the image, thresholded at its top
 * quantile over the samples, and IoU_{u,c} = Σ|M_u ∩ S_c| / Σ|M_u ∪ S_c| over the samples, S_c
 * being the pixels segmented as c. The "dataset" is the samples themselves: latent i of the seed,
 * its image and its segmentation. Each unit's label is then checked causally (./effects.ts).
 */
import type { ConceptSample, ConceptSource } from '../../../data/concepts.js';
import { DEFAULT_IOU, type DissectionResult, dissect } from '../dissect/dissect.js';
import { type GanPair, latents } from './pair.js';

/** A generated sample: its latent, image and per-class masks from the segmenter. */
export interface GeneratedSample extends ConceptSample {
  latent: Float32Array;
}

/**
 * Samples 0..count−1 of `seed` generated and segmented (in batches, up front) as a concept source
 * whose concepts are the segmenter's classes.
 *
 * @example
 * ```ts
 * const source = await generatedConcepts(pair, { count: 1000, seed: 0 });
 * const s = (await source.load(3)) as GeneratedSample; // s.latent, s.image, s.concepts
 * ```
 */
export async function generatedConcepts(
  pair: GanPair,
  options: { count: number; seed?: number },
): Promise<ConceptSource> {
  const { count } = options;
  const seed = options.seed ?? 0;
  if (!(Number.isInteger(count) && count >= 1))
    throw new Error(`samples must be a positive integer, got ${count}`);
  const d = pair.latent.size;
  const z = latents(seed, 0, count, d);
  const { images, classes } = await pair.generate(z, count);
  const [c, h, w] = pair.image;
  const area = h * w;
  return {
    name: `generated(seed=${seed})`,
    classes: pair.classes,
    vocabulary: {
      categories: ['object'],
      concepts: pair.classes.map((name) => ({ name, category: 'object' })),
    },
    length: count,
    channels: c,
    height: h,
    width: w,
    load: (i): GeneratedSample => {
      if (!Number.isInteger(i) || i < 0 || i >= count)
        throw new RangeError(`generated samples: index ${i} outside 0..${count - 1}`);
      const labels = classes.subarray(i * area, (i + 1) * area);
      const masks = new Map<number, Uint8Array>();
      for (let p = 0; p < area; p++) {
        if (!masks.has(labels[p])) masks.set(labels[p], new Uint8Array(area));
        masks.get(labels[p])![p] = 1;
      }
      return {
        image: images.subarray(i * c * area, (i + 1) * c * area),
        label: -1,
        latent: z.subarray(i * d, (i + 1) * d),
        concepts: [...masks].sort((a, b) => a[0] - b[0]).map(([concept, mask]) => ({ concept, mask })),
      };
    },
  };
}

/**
 * The default top quantile for generator units: 0.02. A generator's object units fire over whole
 * objects, which cover several per cent of a generated image, where network dissection's 0.005
 * (sized for Broden's many small concepts) keeps only their peaks.
 */
export const GAN_QUANTILE = 0.02;

export interface GanDissectOptions {
  layer: string;
  /** Generated samples (default 1000). */
  samples?: number;
  seed?: number;
  /** Top quantile of each unit's activations that sets its mask (default 0.02). */
  quantile?: number;
  /** IoU above which a unit gets a label (default 0.04, as network dissection). */
  iou?: number;
}

/**
 * Dissect one layer of a generator against its segmenter's classes.
 *
 * @example
 * ```ts
 * const result = await dissectGenerator(pair, { layer: 'block2', samples: 1000 });
 * for (const u of result.layers[0].units) if (u.label) console.log(u.unit, u.label, u.iou.toFixed(2));
 * ```
 */
export async function dissectGenerator(pair: GanPair, options: GanDissectOptions): Promise<DissectionResult> {
  pair.layer(options.layer);
  const source = await generatedConcepts(pair, { count: options.samples ?? 1000, seed: options.seed });
  const { result } = await dissect(pair.generatorModel, source, {
    layers: [options.layer],
    quantile: options.quantile ?? GAN_QUANTILE,
    iou: options.iou ?? DEFAULT_IOU,
    batch: pair.batch,
    toInput: (s, out, offset) => out.set((s as GeneratedSample).latent, offset),
    meta: {
      model: { name: 'generator', sha256: '-', input: pair.latent.dims },
      data: {
        spec: source.name,
        length: source.length,
        fingerprint: source.name,
        vocabulary: source.vocabulary,
      },
    },
  });
  return result;
}
