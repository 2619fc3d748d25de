import { describe, expect, it } from 'vitest';
import { Random } from '../../maths/random.js';
import { hog, pearson, spearman, ssim } from './similarity.js';

describe('similarity measures', () => {
  it('Spearman ρ equals 1 − 6Σd²/(n(n² − 1)) without ties, and averages tied ranks', () => {
    expect(spearman([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(1 - (6 * 2) / (4 * 15), 14);
    expect(spearman([10, 20, 30], [3, 2, 1])).toBeCloseTo(-1, 14);
    // Ranks (1.5, 1.5, 3) against (1, 2, 3): covariance 1.5 over √(1.5 · 2).
    expect(spearman([1, 1, 2], [5, 6, 7])).toBeCloseTo(1.5 / Math.sqrt(3), 14);
    expect(pearson([2, 2, 2], [1, 5, 3])).toBe(0);
    expect(pearson([2, 2, 2], [2, 2, 2])).toBe(1);
  });

  it('SSIM equals its formula: constant images, and one window over an 11×11 image', () => {
    const c1 = 0.01 ** 2;
    const c2 = 0.03 ** 2;
    const flat = (v: number) => new Float64Array(144).fill(v);
    expect(ssim(flat(0.2), flat(0.6), 12, 12)).toBeCloseTo((2 * 0.2 * 0.6 + c1) / (0.04 + 0.36 + c1), 12);
    const rng = new Random(8);
    const a = Float64Array.from({ length: 121 }, () => rng.next());
    const b = a.map((v) => 0.5 * v + 0.1);
    let g = 0;
    let mu = 0;
    let second = 0;
    for (let y = -5; y <= 5; y++)
      for (let x = -5; x <= 5; x++) {
        const wt = Math.exp(-(x * x + y * y) / (2 * 1.5 * 1.5));
        const v = a[(y + 5) * 11 + x + 5];
        g += wt;
        mu += wt * v;
        second += wt * v * v;
      }
    mu /= g;
    const variance = second / g - mu * mu;
    const muB = 0.5 * mu + 0.1;
    const expected =
      ((2 * mu * muB + c1) * (2 * 0.5 * variance + c2)) /
      ((mu * mu + muB * muB + c1) * (variance + 0.25 * variance + c2));
    expect(ssim(a, b, 11, 11)).toBeCloseTo(expected, 12);
    expect(ssim(a, a, 11, 11)).toBeCloseTo(1, 12);
  });

  it('HOG puts a vertical edge in the 0° bin of the cells it crosses', () => {
    const h = 16;
    const w = 16;
    const edge = Float64Array.from({ length: h * w }, (_, p) => (p % w >= 6 ? 1 : 0));
    const d = hog(edge, h, w);
    expect(d.length).toBe(1 * 1 * 4 * 9);
    for (let k = 0; k < d.length; k++) {
      const cellX = Math.floor(k / 9) % 2;
      if (k % 9 === 0 && cellX === 0) expect(d[k], `bin ${k}`).toBeGreaterThan(0);
      else expect(d[k], `bin ${k}`).toBe(0);
    }
  });
});
