/** Principal component analysis through ml-pca (centred, unscaled; SVD of the data). */
import { PCA } from 'ml-pca';
import type { Points } from './neighbours.js';

export interface PcaResult {
  /** n × k projections onto the first k components, row-major. */
  projection: Float64Array;
  /** k unit component vectors of length d, row-major (the sign of each is arbitrary). */
  components: Float64Array;
  /** Fraction of the total variance each of the k components explains. */
  explained: number[];
  k: number;
}

/**
 * Project points onto their first k principal components.
 *
 * @example
 * ```ts
 * const { projection, explained } = pca({ data: features, n: 2000, d: 64 }, 2);
 * console.log(explained); // e.g. [0.31, 0.18]
 * ```
 */
export function pca(points: Points, k: number): PcaResult {
  const { n, d } = points;
  if (!(Number.isInteger(k) && k >= 1 && k <= Math.min(n, d)))
    throw new Error(`PCA components must be in 1..${Math.min(n, d)}, got ${k}`);
  const rows = Array.from({ length: n }, (_, i) => Array.from(points.data.subarray(i * d, (i + 1) * d)));
  const model = new PCA(rows, { center: true, scale: false });
  const projected = model.predict(rows, { nComponents: k }).to2DArray();
  const loadings = model.getLoadings().to2DArray(); // components as rows
  return {
    projection: Float64Array.from(projected.flat()),
    components: Float64Array.from(loadings.slice(0, k).flat()),
    explained: model.getExplainedVariance().slice(0, k),
    k,
  };
}
