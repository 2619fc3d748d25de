/**
 * Feature inversion (Mahendran & Vedaldi 2015): find an image whose features at a layer match a
 * given image's, from noise, under a total-variation prior. The objective is the relative error
 * −‖Φ(x) − Φ₀‖² / ‖Φ₀‖² (their eq. 1, with the TV term as their R_{V^β} for β = 2), so layers of
 * any scale are comparable; what the inversion keeps shows what the layer keeps.
 */
import type { Preprocessing } from '../../data/preprocess.js';
import type { ConvlensModel } from '../../runtime/model.js';
import type { ObjectiveTerm } from './objective.js';
import { activationsAt, type SynthesisOptions, type SynthesisResult, synthesize } from './synthesize.js';

export interface Inversion {
  layer: string;
  result: SynthesisResult;
  /** ‖Φ(x) − Φ₀‖ / ‖Φ₀‖ of the final image. */
  relativeError: number;
}

/** The feature-matching term for a layer's activations Φ₀ of one image, scaled to relative error. */
export function matchTerm(layer: string, target: Float32Array, weight = 1): ObjectiveTerm {
  let sq = 0;
  for (const v of target) sq += v * v;
  const mean = sq / target.length;
  if (!(mean > 0))
    throw new Error(`layer "${layer}" is zero everywhere for this image; there is nothing to match`);
  return { label: `match:${layer}`, scale: weight / mean, kind: { type: 'match', tensor: layer, target } };
}

/**
 * Invert one image [1, C, H, W] (pixels in [0, 1], the preprocessing size) at each layer.
 *
 * @example
 * ```ts
 * const [r] = await invert(model, card.preprocessing, digit, ['relu2'], { steps: 200, tv: 0.5 });
 * r.relativeError; // how far the features still are
 * ```
 */
export async function invert(
  model: ConvlensModel,
  preprocessing: Preprocessing,
  pixels: Float32Array,
  layers: readonly string[],
  options: Omit<SynthesisOptions, 'init' | 'batch' | 'size'>,
): Promise<Inversion[]> {
  const size = preprocessing.size;
  const targets = await activationsAt(model, preprocessing, pixels, size, layers);
  const out: Inversion[] = [];
  for (const layer of layers) {
    const result = await synthesize(model, preprocessing, [matchTerm(layer, targets[layer].data)], options);
    const relativeError = Math.sqrt(Math.max(0, -result.trace.at(-1)!.terms[0]));
    out.push({ layer, result, relativeError });
  }
  return out;
}
