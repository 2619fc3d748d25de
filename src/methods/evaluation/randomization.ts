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
  const x = comparable(a, height, width);
  const y = comparable(b, height, width);
  const n = x.abs.n;
  const sum = { spearmanAbs: 0, spearmanSigned: 0, ssim: 0, hog: 0 };
  for (let i = 0; i < n; i++) {
    const xa = planeAt(x.abs, i);
    const ya = planeAt(y.abs, i);
    sum.spearmanAbs += spearman(xa, ya);
    sum.spearmanSigned += spearman(planeAt(x.signed, i), planeAt(y.signed, i));
    sum.ssim += ssim(xa, ya, height, width, 1);
    sum.hog += hogSimilarity(xa, ya, height, width);
  }
  return {
    spearmanAbs: sum.spearmanAbs / n,
    spearmanSigned: sum.spearmanSigned / n,
    ssim: sum.ssim / n,
    hog: sum.hog / n,
  };
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
  const model = explainer.model;
  const all = weightedLayers(model.model).map((l) => l.name);
  const walk = options.layers ?? [...all].reverse();
  const unknown = walk.filter((l) => !all.includes(l));
  if (unknown.length > 0)
    throw new Error(`no weighted layer named ${unknown.join(', ')}; weighted layers: ${all.join(', ')}`);
  if (walk.length === 0) throw new Error('the model has no weighted layers to randomise');
  const fixed = await fixedTarget(explainer, options.target);
  const stages: RandomizationStage[] = [];
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
        methods: await similarityOfMaps(explainer, originals, changed, { ...options, target: fixed }),
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
  const [, , height, width] = explainer.input.dims;
  const e = new Explainer(other, explainer.input, { ...explainer.options, onProgress: undefined });
  const { maps } = await explain(e, {
    methods: originals.map((m) => m.method),
    target: await fixedTarget(explainer, options.target),
    layer: options.layer ?? originals.find((m) => m.layer)?.layer,
    params: options.params,
  });
  const similarity: Record<string, Similarity> = {};
  for (const [j, m] of maps.entries()) similarity[m.method] = mapSimilarity(originals[j], m, height, width);
  return similarity;
}
