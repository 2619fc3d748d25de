import { describe, expect, it } from 'vitest';
import { knnAccuracy, nearestNeighbours, type Points } from './neighbours.js';
import { pca } from './pca.js';
import { Random } from './random.js';
import { tsne, tsneRepulsion } from './tsne.js';
import { umap } from './umap.js';

/** `clusters` Gaussian blobs of `per` points in d dimensions, centres `spread` apart on random axes. */
function blobs(
  clusters: number,
  per: number,
  d: number,
  spread: number,
  seed = 1,
): { points: Points; labels: number[] } {
  const r = new Random(seed);
  const centres = Array.from({ length: clusters }, () =>
    Array.from({ length: d }, () => spread * r.normal()),
  );
  const data = new Float64Array(clusters * per * d);
  const labels: number[] = [];
  for (let c = 0; c < clusters; c++)
    for (let i = 0; i < per; i++) {
      const row = (c * per + i) * d;
      for (let j = 0; j < d; j++) data[row + j] = centres[c][j] + r.normal();
      labels.push(c);
    }
  return { points: { data, n: clusters * per, d }, labels };
}

describe('nearest neighbours', () => {
  it('match a brute-force sort for L2 and cosine', () => {
    const { points } = blobs(3, 20, 6, 2);
    for (const metric of ['l2', 'cosine'] as const) {
      const nn = nearestNeighbours(points, 4, metric);
      for (const i of [0, 17, 59]) {
        const row = (j: number) => Array.from(points.data.subarray(j * 6, j * 6 + 6));
        const dist = (j: number) => {
          const a = row(i);
          const b = row(j);
          if (metric === 'l2') return a.reduce((s, v, t) => s + (v - b[t]) ** 2, 0);
          const dot = a.reduce((s, v, t) => s + v * b[t], 0);
          return 1 - dot / Math.hypot(...a) / Math.hypot(...b);
        };
        const expected = Array.from({ length: 60 }, (_, j) => j)
          .filter((j) => j !== i)
          .sort((a, b) => dist(a) - dist(b))
          .slice(0, 4);
        expect(Array.from(nn.indices.subarray(i * 4, i * 4 + 4))).toEqual(expected);
        expect(nn.distances[i * 4]).toBeCloseTo(dist(expected[0]), 9);
      }
    }
  });

  it('give leave-one-out k-NN accuracy by majority vote', () => {
    // Points on a line: 0, 1, 2 | 10, 11 | 12.5 labelled a a b | b b | a.
    const points = { data: Float64Array.from([0, 1, 2, 10, 11, 12.5]), n: 6, d: 1 };
    const nn = nearestNeighbours(points, 3);
    // 1-NN: 0→1 a ✓, 1→0 a ✓, 2→1 a ✗, 10→11 b ✓, 11→10 b ✓, 12.5→11 b ✗.
    expect(knnAccuracy(nn, [0, 0, 1, 1, 1, 0], 1)).toBeCloseTo(4 / 6, 12);
    expect(() => nearestNeighbours(points, 6)).toThrow(/k must be in 1..5/);
  });
});

describe('PCA', () => {
  it('recovers known components and their share of the variance', () => {
    // x = 3a·u + b·v with a, b ~ N(0, 1) and orthonormal u, v in 4-D: variances 9 and 1.
    const u = [0.5, 0.5, 0.5, 0.5];
    const v = [0.5, -0.5, 0.5, -0.5];
    const r = new Random(5);
    const n = 4000;
    const data = new Float64Array(n * 4);
    for (let i = 0; i < n; i++) {
      const a = 3 * r.normal();
      const b = r.normal();
      for (let j = 0; j < 4; j++) data[i * 4 + j] = 7 + a * u[j] + b * v[j];
    }
    const result = pca({ data, n, d: 4 }, 2);
    const comp = (k: number) => Array.from(result.components.subarray(k * 4, k * 4 + 4));
    const align = (a: number[], b: number[]) => Math.abs(a.reduce((s, x, j) => s + x * b[j], 0));
    expect(align(comp(0), u)).toBeCloseTo(1, 3);
    expect(align(comp(1), v)).toBeCloseTo(1, 3);
    expect(result.explained[0]).toBeCloseTo(0.9, 2);
    expect(result.explained[1]).toBeCloseTo(0.1, 2);
  });
});

describe('t-SNE and UMAP', () => {
  const { points, labels } = blobs(5, 60, 30, 3);

  it('t-SNE separates well-separated Gaussian clusters (5-NN accuracy in 2-D), reproducibly', () => {
    const a = tsne(points, { iterations: 400, seed: 3 });
    const embedded = { data: a.embedding, n: points.n, d: 2 };
    expect(knnAccuracy(nearestNeighbours(embedded, 5), labels)).toBeGreaterThanOrEqual(0.98);
    expect(Number.isFinite(a.kl) && a.kl > 0).toBe(true);
    expect(tsne(points, { iterations: 400, seed: 3 }).embedding).toEqual(a.embedding);
    // The exact gradient (θ = 0) separates them too, from a random start.
    const exact = tsne(points, { iterations: 300, theta: 0, init: 'random', seed: 1 });
    expect(
      knnAccuracy(nearestNeighbours({ data: exact.embedding, n: points.n, d: 2 }, 5), labels),
    ).toBeGreaterThanOrEqual(0.98);
  });

  it('the Barnes–Hut repulsion is exact at θ = 0 (coincident points included) and close at θ = 0.5', () => {
    const r = new Random(4);
    const n = 400;
    const y = Float64Array.from({ length: 2 * n }, () => 5 * r.normal());
    y.copyWithin(0, 2, 4); // points 0 and 1 coincide
    y.copyWithin(4, 2, 4); // and point 2 with them
    const forces = new Float64Array(2 * n);
    let z = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const [dx, dy] = [y[2 * i] - y[2 * j], y[2 * i + 1] - y[2 * j + 1]];
        const q = 1 / (1 + dx * dx + dy * dy);
        z += q;
        forces[2 * i] += q * q * dx;
        forces[2 * i + 1] += q * q * dy;
      }
    const relative = (a: Float64Array) =>
      Math.hypot(...a.map((v, t) => v - forces[t])) / Math.hypot(...forces);
    const exact = tsneRepulsion(y, 0);
    expect(exact.z).toBeCloseTo(z, 9);
    expect(relative(exact.forces)).toBeLessThan(1e-12);
    const approx = tsneRepulsion(y, 0.5);
    expect(Math.abs(approx.z - z) / z).toBeLessThan(0.01);
    expect(relative(approx.forces)).toBeLessThan(0.05);
    expect(relative(approx.forces)).toBeGreaterThan(0);
  });

  it('t-SNE lowers KL divergence as it optimises', () => {
    const short = tsne(points, { iterations: 260, seed: 3 });
    const long = tsne(points, { iterations: 600, seed: 3 });
    expect(long.kl).toBeLessThan(short.kl);
  });

  it('UMAP separates them too', () => {
    const { embedding } = umap(points, { seed: 2 });
    expect(
      knnAccuracy(nearestNeighbours({ data: embedding, n: points.n, d: 2 }, 5), labels),
    ).toBeGreaterThanOrEqual(0.98);
  });
});
