/**
 * Model-parameter randomisation tests (Adebayo et al. 2018, "Sanity Checks for Saliency Maps",
 * §3.1): a map that explains the model must change when the model's weights are replaced by random
 * ones. Cascading: layers are randomised cumulatively from the output down; independent: one layer
 * at a time. Each randomised model explains the same images for the same classes (the original's
 * targets), and its maps are compared with the original's by Spearman rank correlation of |map|
 * and of the signed map, SSIM and HOG similarity of |map| scaled to [0, 1].
 */
import { ConvlensModel } from '../../runtime/model.js';
import { reinitialized, weightedLayers } from '../../train/initialize.js';
import { explain } from '../attribution/index.js';
import { type AttributionMap, Explainer } from '../attribution/pipeline.js';
import type { Target } from '../attribution/target.js';
import { planeAt, relevancePlanes } from './planes.js';
import { hogSimilarity, spearman, ssim } from './similarity.js';

export type RandomizationMode = 'cascading' | 'independent';

export interface Similarity {
  spearmanAbs: number;
  spearmanSigned: number;
  ssim: number;
  hog: number;
}

export interface RandomizationStage {
  /** The layers whose weights are random at this stage. */
  randomized: string[];
  /** Per method: mean similarity to the original map over the samples. */
  methods: Record<string, Similarity>;
}

/** A randomisation stage with each method's similarities per sample. */
export interface SampleRandomizationStage {
  randomized: string[];
  methods: Record<string, SampleSimilarities>;
}

export interface RandomizationOptions {
  mode: RandomizationMode;
  /** Layers to walk (default: every weighted layer, output side first). */
  layers?: string[];
  seed?: number;
  /** Method parameters, as for explain. */
  params?: Record<string, object>;
  layer?: string;
  /** The target the originals explain (default: the original model's top class, kept fixed). */
  target?: Target;
  onStage?: (done: number, total: number) => void;
}

/** |map| planes scaled to [0, 1] by their max, and signed planes, at the input's size. */
function comparable(map: AttributionMap, height: number, width: number) {
  const pixel = map.resolution === 'input';
  const abs = relevancePlanes(map.data, map.dims, height, width, pixel ? 'abs-max' : 'abs-sum');
  const signed = relevancePlanes(map.data, map.dims, height, width, 'sum');
  const area = height * width;
  for (let i = 0; i < abs.n; i++) {
    const p = planeAt(abs, i);
    let max = 0;
    for (const v of p) max = Math.max(max, v);
    if (max > 0) for (let j = 0; j < area; j++) p[j] /= max;
  }
  return { abs, signed };
}

/** Per sample, the similarity of two maps (each entry holds one number per sample). */
export type SampleSimilarities = { [K in keyof Similarity]: number[] };

/**
 * The similarity of two maps of the same method, sample by sample.
 *
 * @example
 * ```ts
 * sampleSimilarities(original, randomized, 64, 64).spearmanAbs; // one ρ per sample
 * ```
 */
export function sampleSimilarities(
  a: AttributionMap,
  b: AttributionMap,
  height: number,
  width: number,
): SampleSimilarities {
  const x = comparable(a, height, width);
  const y = comparable(b, height, width);
  const out: SampleSimilarities = { spearmanAbs: [], spearmanSigned: [], ssim: [], hog: [] };
  for (let i = 0; i < x.abs.n; i++) {
    const xa = planeAt(x.abs, i);
    const ya = planeAt(y.abs, i);
    out.spearmanAbs.push(spearman(xa, ya));
    out.spearmanSigned.push(spearman(planeAt(x.signed, i), planeAt(y.signed, i)));
    out.ssim.push(ssim(xa, ya, height, width, 1));
    out.hog.push(hogSimilarity(xa, ya, height, width));
  }
  return out;
}

/** The mean over samples of each similarity, summed in sample order. */
export function meanSimilarity(s: SampleSimilarities): Similarity {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    spearmanAbs: mean(s.spearmanAbs),
    spearmanSigned: mean(s.spearmanSigned),
    ssim: mean(s.ssim),
    hog: mean(s.hog),
  };
}

/**
 * Mean similarity of two maps of the same method over their samples.
 *
 * @example
 * ```ts
 * mapSimilarity(original, randomized, 64, 64); // { spearmanAbs, spearmanSigned, ssim, hog }
 * ```
 */
export function mapSimilarity(
  a: AttributionMap,
  b: AttributionMap,
  height: number,
  width: number,
): Similarity {
  return meanSimilarity(sampleSimilarities(a, b, height, width));
}

/**
 * Randomise the explainer's model stage by stage and compare each method's maps with `originals`
 * (the maps of the unchanged model for the same images).
 *
 * @example
 * ```ts
 * const { maps } = await explain(explainer, { methods: ['saliency', 'gradcam'] });
 * const stages = await parameterRandomization(explainer, maps, { mode: 'cascading' });
 * stages.map((s) => s.methods.gradcam.spearmanAbs); // falls toward 0 as layers are randomised
 * ```
 */
export async function parameterRandomization(
  explainer: Explainer,
  originals: AttributionMap[],
  options: RandomizationOptions,
): Promise<RandomizationStage[]> {
  const stages = await parameterRandomizationBySample(explainer, originals, options);
  return stages.map((s) => ({ randomized: s.randomized, methods: meanSimilarities(s.methods) }));
}

/** Each method's mean similarities. */
export const meanSimilarities = (methods: Record<string, SampleSimilarities>): Record<string, Similarity> =>
  Object.fromEntries(Object.entries(methods).map(([k, v]) => [k, meanSimilarity(v)]));

/** parameterRandomization with every similarity per sample (what a sharded run merges). */
export async function parameterRandomizationBySample(
  explainer: Explainer,
  originals: AttributionMap[],
  options: RandomizationOptions,
): Promise<SampleRandomizationStage[]> {
  const model = explainer.model;
  const all = weightedLayers(model.model).map((l) => l.name);
  const walk = options.layers ?? [...all].reverse();
  const unknown = walk.filter((l) => !all.includes(l));
  if (unknown.length > 0)
    throw new Error(`no weighted layer named ${unknown.join(', ')}; weighted layers: ${all.join(', ')}`);
  if (walk.length === 0) throw new Error('the model has no weighted layers to randomise');
  const fixed = await fixedTarget(explainer, options.target);
  const stages: SampleRandomizationStage[] = [];
  for (const [k, layer] of walk.entries()) {
    const randomized = options.mode === 'cascading' ? walk.slice(0, k + 1) : [layer];
    const changed = new ConvlensModel(
      reinitialized(model.model, options.seed ?? 1, randomized),
      model.backend,
      model.sessionOptions,
    );
    try {
      stages.push({
        randomized,
        methods: await similarityOfMapsBySample(explainer, originals, changed, { ...options, target: fixed }),
      });
    } finally {
      await changed.release();
    }
    options.onStage?.(k + 1, walk.length);
  }
  return stages;
}

/** The original model's classes for the batch, fixed, so every other model explains the same ones. */
async function fixedTarget(explainer: Explainer, target?: Target): Promise<Target> {
  const bound = await explainer.bind(target ?? { kind: 'top' });
  return bound.classes ? { kind: 'classes', indices: bound.classes } : (target ?? { kind: 'top' });
}

/**
 * How alike another model's maps are to `originals` (the explainer's model's maps of the same
 * images), method by method: the data randomisation test compares a model trained on shuffled
 * labels this way (Adebayo et al. 2018, §3.2). The other model must take the same input.
 *
 * @example
 * ```ts
 * const similarity = await similarityOfMaps(explainer, maps, shuffledLabelsModel);
 * similarity.gradcam.spearmanAbs; // near 0 when Grad-CAM depends on what the labels taught
 * ```
 */
export async function similarityOfMaps(
  explainer: Explainer,
  originals: AttributionMap[],
  other: ConvlensModel,
  options: { target?: Target; layer?: string; params?: Record<string, object> } = {},
): Promise<Record<string, Similarity>> {
  return meanSimilarities(await similarityOfMapsBySample(explainer, originals, other, options));
}

/** similarityOfMaps with every similarity per sample. */
export async function similarityOfMapsBySample(
  explainer: Explainer,
  originals: AttributionMap[],
  other: ConvlensModel,
  options: { target?: Target; layer?: string; params?: Record<string, object> } = {},
): Promise<Record<string, SampleSimilarities>> {
  const [, , height, width] = explainer.input.dims;
  const e = new Explainer(other, explainer.input, { ...explainer.options, onProgress: undefined });
  const { maps } = await explain(e, {
    methods: originals.map((m) => m.method),
    target: await fixedTarget(explainer, options.target),
    layer: options.layer ?? originals.find((m) => m.layer)?.layer,
    params: options.params,
  });
  const similarity: Record<string, SampleSimilarities> = {};
  for (const [j, m] of maps.entries())
    similarity[m.method] = sampleSimilarities(originals[j], m, height, width);
  return similarity;
}
