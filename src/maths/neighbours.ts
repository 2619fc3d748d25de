/** Exact k-nearest neighbours of row vectors (brute force, blocked through dot products) and k-NN accuracy. */

export type Metric = 'l2' | 'cosine';
export const METRICS: readonly Metric[] = ['l2', 'cosine'];

/** Row-major n × d points. */
export interface Points {
  data: Float32Array | Float64Array;
  n: number;
  d: number;
}

export interface Neighbours {
  k: number;
  /** n × k neighbour indices, nearest first (a point is never its own neighbour). */
  indices: Int32Array;
  /** n × k distances: squared Euclidean for 'l2', 1 − cos for 'cosine'. */
  distances: Float64Array;
}

function normalised(p: Points): Float64Array {
  const out = Float64Array.from(p.data);
  for (let i = 0; i < p.n; i++) {
    let s = 0;
    for (let j = 0; j < p.d; j++) s += out[i * p.d + j] ** 2;
    const r = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < p.d; j++) out[i * p.d + j] *= r;
  }
  return out;
}

/**
 * The k nearest other points of every point (ties by index). Squared distances come from
 * ‖a‖² + ‖b‖² − 2a·b over each pair once; a bounded max-heap per point keeps the best k.
 *
 * @example
 * ```ts
 * const nn = nearestNeighbours({ data: features, n: 2000, d: 64 }, 5, 'cosine');
 * console.log(nn.indices.subarray(0, 5)); // the 5 nearest to point 0
 * ```
 */
export function nearestNeighbours(points: Points, k: number, metric: Metric = 'l2'): Neighbours {
  const { n, d } = points;
  if (!(Number.isInteger(k) && k >= 1 && k < n)) throw new Error(`k must be in 1..${n - 1}, got ${k}`);
  const x = metric === 'cosine' ? normalised(points) : Float64Array.from(points.data);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
    norms[i] = s;
  }
  // Max-heaps (worst at the root), one per point.
  const heapD = new Float64Array(n * k).fill(Number.POSITIVE_INFINITY);
  const heapI = new Int32Array(n * k).fill(-1);
  const worse = (o: number, a: number, b: number) =>
    heapD[o + a] > heapD[o + b] || (heapD[o + a] === heapD[o + b] && heapI[o + a] > heapI[o + b]);
  const offer = (i: number, j: number, dist: number) => {
    const o = i * k;
    if (dist > heapD[o] || (dist === heapD[o] && j > heapI[o])) return;
    heapD[o] = dist;
    heapI[o] = j;
    let at = 0;
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let top = at;
      if (l < k && worse(o, l, top)) top = l;
      if (r < k && worse(o, r, top)) top = r;
      if (top === at) break;
      [heapD[o + at], heapD[o + top]] = [heapD[o + top], heapD[o + at]];
      [heapI[o + at], heapI[o + top]] = [heapI[o + top], heapI[o + at]];
      at = top;
    }
  };
  for (let i = 0; i < n; i++) {
    const oi = i * d;
    for (let j = i + 1; j < n; j++) {
      const oj = j * d;
      let dot = 0;
      for (let t = 0; t < d; t++) dot += x[oi + t] * x[oj + t];
      const dist = Math.max(0, metric === 'cosine' ? 1 - dot : norms[i] + norms[j] - 2 * dot);
      offer(i, j, dist);
      offer(j, i, dist);
    }
  }
  // Sort each heap nearest first.
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  const order = Array.from({ length: k }, (_, t) => t);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    order.sort((a, b) => heapD[o + a] - heapD[o + b] || heapI[o + a] - heapI[o + b]);
    for (let t = 0; t < k; t++) {
      indices[o + t] = heapI[o + order[t]];
      distances[o + t] = heapD[o + order[t]];
    }
  }
  return { k, indices, distances };
}

/**
 * Leave-one-out k-NN classification accuracy: each point takes the majority label of its k nearest
 * other points (ties go to the nearest neighbour's label among the tied). Points labelled < 0 are skipped.
 */
export function knnAccuracy(neighbours: Neighbours, labels: readonly number[], k = neighbours.k): number {
  if (k > neighbours.k) throw new Error(`k ${k} exceeds the ${neighbours.k} neighbours computed`);
  let right = 0;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0) continue;
    const votes = new Map<number, number>();
    for (let t = 0; t < k; t++) {
      const l = labels[neighbours.indices[i * neighbours.k + t]];
      votes.set(l, (votes.get(l) ?? 0) + 1);
    }
    const most = Math.max(...votes.values());
    let chosen = -1;
    for (let t = 0; t < k && chosen < 0; t++) {
      const l = labels[neighbours.indices[i * neighbours.k + t]];
      if (votes.get(l) === most) chosen = l;
    }
    total++;
    if (chosen === labels[i]) right++;
  }
  return total > 0 ? right / total : 0;
}

/** The k nearest other points to each of the `queries` (point indices), nearest first. */
export function neighboursOf(
  points: Points,
  queries: readonly number[],
  k: number,
  metric: Metric = 'l2',
): number[][] {
  const { n, d } = points;
  const x = points.data;
  const norm = (i: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += x[i * d + t] ** 2;
    return Math.sqrt(s);
  };
  const norms = metric === 'cosine' ? Float64Array.from({ length: n }, (_, i) => norm(i)) : undefined;
  return queries.map((q) => {
    const dist = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let s = 0;
      if (norms) {
        for (let t = 0; t < d; t++) s += x[q * d + t] * x[j * d + t];
        dist[j] = norms[q] > 0 && norms[j] > 0 ? 1 - s / (norms[q] * norms[j]) : 1;
      } else {
        for (let t = 0; t < d; t++) s += (x[q * d + t] - x[j * d + t]) ** 2;
        dist[j] = s;
      }
    }
    return Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== q)
      .sort((a, b) => dist[a] - dist[b] || a - b)
      .slice(0, k);
  });
}
