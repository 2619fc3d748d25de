/** UMAP (McInnes et al. 2018) through umap-js, seeded. */
import { UMAP } from 'umap-js';
import type { Points } from './neighbours.js';
import { Random } from './random.js';

export interface UmapOptions {
  neighbours?: number;
  minDist?: number;
  seed?: number;
  onProgress?: (p: { epoch: number; epochs: number }) => void;
}

/**
 * Embed n points (row-major n × d) in 2-D with UMAP.
 *
 * @example
 * ```ts
 * const { embedding } = umap({ data: features, n: 2000, d: 64 }, { neighbours: 15, seed: 0 });
 * ```
 */
export function umap(
  points: Points,
  options: UmapOptions = {},
): { embedding: Float64Array; params: Required<Omit<UmapOptions, 'onProgress'>> } {
  const { n, d } = points;
  const neighbours = options.neighbours ?? Math.min(15, n - 1);
  const minDist = options.minDist ?? 0.1;
  const seed = options.seed ?? 0;
  if (!(Number.isInteger(neighbours) && neighbours >= 2 && neighbours < n))
    throw new Error(`UMAP neighbours must be in 2..${n - 1}, got ${neighbours}`);
  const random = new Random(seed);
  const model = new UMAP({ nComponents: 2, nNeighbors: neighbours, minDist, random: () => random.next() });
  const rows = Array.from({ length: n }, (_, i) => Array.from(points.data.subarray(i * d, (i + 1) * d)));
  const epochs = model.initializeFit(rows);
  for (let e = 0; e < epochs; e++) {
    model.step();
    options.onProgress?.({ epoch: e + 1, epochs });
  }
  return { embedding: Float64Array.from(model.getEmbedding().flat()), params: { neighbours, minDist, seed } };
}
