/**
 * Texture synthesis and style transfer by matching Gram matrices (Gatys, Ecker & Bethge 2015,
 * 2016): a texture is the set of Gram matrices G = F Fᵀ / (H·W) of several layers; synthesis
 * finds an image with the same Grams, and style transfer adds a content term that keeps one
 * layer's features of a content image. Each layer's term is divided by the mean square of its
 * target, so layers of different scale weigh alike before the user's weights.
 */
import type { Preprocessing } from '../../data/preprocess.js';
import type { ConvlensModel } from '../../runtime/model.js';
import { matchTerm } from './invert.js';
import { gramMatrix, type ObjectiveTerm } from './objective.js';
import { activationsAt, type SynthesisOptions, type SynthesisResult, synthesize } from './synthesize.js';

export interface SourceImage {
  /** [1, C, H, W] in [0, 1]. */
  pixels: Float32Array;
  size: readonly [number, number];
}

/** Gram-matching terms for the style or texture of `source` at each layer, weighted. */
export async function gramTerms(
  model: ConvlensModel,
  preprocessing: Preprocessing,
  source: SourceImage,
  layers: readonly string[],
  weights: readonly number[] = layers.map(() => 1),
): Promise<ObjectiveTerm[]> {
  if (weights.length !== layers.length)
    throw new Error(`${weights.length} weights for ${layers.length} layers; give one weight per layer`);
  const acts = await activationsAt(model, preprocessing, source.pixels, source.size, layers);
  return layers.map((layer, k) => {
    const { data, dims } = acts[layer];
    if (dims.length !== 4)
      throw new Error(`layer "${layer}" has shape [${dims}]; Gram matrices need a spatial map [N, C, H, W]`);
    const target = gramMatrix(data, dims);
    const mean = target.reduce((s, v) => s + v * v, 0) / target.length;
    if (!(mean > 0))
      throw new Error(`layer "${layer}" is zero everywhere for this image; its Gram matrix is empty`);
    return {
      label: `gram:${layer}`,
      scale: weights[k] / mean,
      kind: { type: 'gram', tensor: layer, target },
    };
  });
}

/**
 * An image of `options.size` (default: the source's) with the texture of `source` at the layers.
 *
 * @example
 * ```ts
 * const r = await texture(model, p, { pixels: brick, size: [128, 128] }, ['relu1', 'relu2'], { steps: 300 });
 * ```
 */
export async function texture(
  model: ConvlensModel,
  preprocessing: Preprocessing,
  source: SourceImage,
  layers: readonly string[],
  options: SynthesisOptions & { weights?: readonly number[] },
): Promise<SynthesisResult> {
  const terms = await gramTerms(model, preprocessing, source, layers, options.weights);
  return synthesize(model, preprocessing, terms, { size: source.size, ...options });
}

export interface StyleOptions extends SynthesisOptions {
  contentLayer: string;
  styleLayers: readonly string[];
  /** Weight of the content term (default 1). */
  contentWeight?: number;
  /** Weight of each style layer (default 1 each; a single value applies to all). */
  styleWeights?: readonly number[];
}

/**
 * Style transfer: the content image's features at one layer, the style image's Grams at others.
 * Starts from the content image unless `init` says otherwise; the result has the content's size.
 *
 * @example
 * ```ts
 * const r = await style(model, p, content, styleImage, { contentLayer: 'relu3', styleLayers: ['relu1', 'relu2'], steps: 300 });
 * ```
 */
export async function style(
  model: ConvlensModel,
  preprocessing: Preprocessing,
  content: SourceImage,
  styleSource: SourceImage,
  options: StyleOptions,
): Promise<SynthesisResult> {
  const sw = options.styleWeights ?? [1];
  const weights = sw.length === 1 ? options.styleLayers.map(() => sw[0]) : sw;
  const styleTerms = await gramTerms(model, preprocessing, styleSource, options.styleLayers, weights);
  const acts = await activationsAt(model, preprocessing, content.pixels, content.size, [
    options.contentLayer,
  ]);
  const contentTerm = matchTerm(
    options.contentLayer,
    acts[options.contentLayer].data,
    options.contentWeight ?? 1,
  );
  return synthesize(model, preprocessing, [contentTerm, ...styleTerms], {
    ...options,
    init: options.init ?? (options.param === 'fft' ? undefined : Float32Array.from(content.pixels)),
    size: content.size,
  });
}
