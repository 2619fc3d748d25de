/** Worker side of the Embeddings view: features of samples at a layer, their 2-D map and nearest neighbours. */

import { neighboursOf } from '../../maths/neighbours.js';
import { pca } from '../../maths/pca.js';
import { tsne } from '../../maths/tsne.js';
import { umap } from '../../maths/umap.js';
import { extractFeatures, type FeatureSet } from '../../methods/inspect/features.js';
import type { ConvlensModel } from '../../runtime/model.js';
import type { EmbeddingMethod } from './protocol.js';

let kept: FeatureSet | undefined;

/**
 * Features of n samples (pixels [n, C, H, W] in [0, 1], normalised by `toInput`) at `layer`,
 * spatial maps averaged over H×W, embedded in 2-D by PCA, t-SNE or UMAP (seeded).
 */
export async function embedSamples(
  model: ConvlensModel,
  request: { layer: string; pixels: Float32Array; labels: number[]; n: number; method: EmbeddingMethod },
  inputShape: number[],
  toInput: (pixels: Float32Array, out: Float32Array, offset: number) => void,
  onProgress: (done: number, total: number) => void,
) {
  const { n, pixels, labels } = request;
  if (n < 3) throw new Error(`an embedding needs at least 3 samples, got ${n}`);
  const per = pixels.length / n;
  const source = {
    length: n,
    classes: [],
    load: (i: number) => ({ image: pixels.subarray(i * per, (i + 1) * per), label: labels[i] ?? -1 }),
  };
  const features = await extractFeatures(model, source, {
    layer: request.layer,
    indices: Array.from({ length: n }, (_, i) => i),
    batch: 16,
    inputShape,
    toInput: (s, out, offset) => toInput(s.image, out, offset),
    onProgress: (p) => onProgress(p.done, p.total),
  });
  kept = features;
  const points = { data: features.features, n, d: features.d };
  if (request.method === 'pca') return { points: pca(points, Math.min(2, features.d)).projection, features };
  if (request.method === 'tsne')
    return {
      points: tsne(points, {
        perplexity: Math.min(30, Math.floor((n - 1) / 3)),
        seed: 0,
        onProgress: (p) => onProgress(p.iteration, p.iterations),
      }).embedding,
      features,
    };
  return {
    points: umap(points, { seed: 0, onProgress: (p) => onProgress(p.epoch, p.epochs) }).embedding,
    features,
  };
}

/** The k samples nearest to sample `of` in feature space (L2), from the last embedding's features. */
export function nearest(of: number, k: number): number[] {
  if (!kept) throw new Error('embed samples first');
  if (!(Number.isInteger(of) && of >= 0 && of < kept.n))
    throw new Error(`sample ${of} is out of range 0-${kept.n - 1}`);
  return neighboursOf({ data: kept.features, n: kept.n, d: kept.d }, [of], Math.min(k, kept.n - 1))[0];
}
