import { describe, expect, it } from 'vitest';
import { Random } from './random.js';
import { LAYER_AREA, LAYERS, TAIL_START, zigguratTables } from './ziggurat.js';

const density = (x: number) => Math.exp(-0.5 * x * x);

/** ∫ₐᵇ exp(−x²/2) dx by composite Simpson (error ≪ 1e-12 at this step). */
function integral(a: number, b: number, steps = 20000): number {
  const h = (b - a) / steps;
  let s = density(a) + density(b);
  for (let i = 1; i < steps; i++) s += (i % 2 ? 4 : 2) * density(a + i * h);
  return (s * h) / 3;
}

/** Standard normal CDF. */
const phi = (x: number) => 0.5 + (Math.sign(x) * integral(0, Math.abs(x), 2000)) / Math.sqrt(2 * Math.PI);

describe('ziggurat tables', () => {
  const { edge, inner, height } = zigguratTables();

  it('stack 128 layers of equal area that close at the top of the curve', () => {
    // Base: the rectangle to R plus the tail beyond it.
    expect(TAIL_START * density(TAIL_START) + integral(TAIL_START, 40)).toBeCloseTo(LAYER_AREA, 12);
    expect(edge[0] * height[1]).toBeCloseTo(LAYER_AREA, 15);
    // Each rectangle above the base: width edge[i], from f(edge[i]) up to f(edge[i+1]).
    for (let i = 1; i < LAYERS; i++) expect(edge[i] * (height[i + 1] - height[i])).toBeCloseTo(LAYER_AREA, 9);
    expect(edge[LAYERS]).toBe(0);
    expect(height[LAYERS]).toBe(1);
    for (let i = 0; i < LAYERS; i++) {
      expect(edge[i + 1]).toBeLessThan(edge[i]);
      expect(inner[i]).toBeGreaterThanOrEqual(0);
      expect(inner[i]).toBeLessThan(1);
    }
  });
});

describe('Random.fillNormal', () => {
  const n = 1 << 20;
  const z = new Float32Array(n);
  new Random(20001).fillNormal(z);

  it('draws the standard normal: Kolmogorov–Smirnov distance, moments and tail mass within sampling noise', () => {
    const sorted = Float64Array.from(z).sort();
    let d = 0;
    // Φ at every 64th order statistic (a grid of 16384 points) bounds the distance from below.
    for (let i = 0; i < n; i += 64) {
      const p = phi(sorted[i]);
      d = Math.max(d, Math.abs(p - i / n), Math.abs(p - (i + 1) / n));
    }
    // P(D > d) ≤ 2 exp(−2 n d²): at 1e-9, d = √(ln(2e9) / 2n).
    expect(d).toBeLessThan(Math.sqrt(Math.log(2e9) / (2 * n)));
    let mean = 0;
    let square = 0;
    let beyond = 0;
    for (const v of z) {
      mean += v / n;
      square += (v * v) / n;
      if (Math.abs(v) > TAIL_START) beyond++;
    }
    // Six standard errors: mean 1/√n, second moment √(2/n).
    expect(Math.abs(mean)).toBeLessThan(6 / Math.sqrt(n));
    expect(Math.abs(square - 1)).toBeLessThan(6 * Math.sqrt(2 / n));
    // The tail path: P(|z| > R) = 2(1 − Φ(R)), a binomial count.
    const p = (2 * integral(TAIL_START, 40)) / Math.sqrt(2 * Math.PI);
    expect(Math.abs(beyond - n * p)).toBeLessThan(6 * Math.sqrt(n * p));
    // The wedges: the two sides of each layer edge hold their normal mass (values beyond the inner edge
    // of the widest layers come only from wedge or tail draws).
    const { edge } = zigguratTables();
    for (const x of [edge[2], edge[20], edge[100]]) {
      const q = 1 - phi(x);
      const count = z.filter((v) => v > x).length;
      expect(Math.abs(count - n * q)).toBeLessThan(6 * Math.sqrt(n * q));
    }
  });

  it('draws the tail beyond R with the normal tail mean excess E[|z| − R | |z| > R]', () => {
    // 16 M draws give about 9 600 tail draws, a standard error near 0.003 on the excess.
    const many = new Float32Array(1 << 24);
    new Random(7).fillNormal(many);
    const excess = Array.from(
      many.filter((v) => Math.abs(v) > TAIL_START),
      (v) => Math.abs(v) - TAIL_START,
    );
    const mean = excess.reduce((a, b) => a + b, 0) / excess.length;
    const sd = Math.sqrt(excess.reduce((a, b) => a + (b - mean) ** 2, 0) / excess.length);
    const grid = 20000;
    const h = (40 - TAIL_START) / grid;
    let weighted = 0;
    for (let i = 0; i < grid; i++) weighted += (i + 0.5) * h * density(TAIL_START + (i + 0.5) * h) * h;
    const expected = weighted / integral(TAIL_START, 40);
    expect(Math.abs(mean - expected)).toBeLessThan((6 * sd) / Math.sqrt(excess.length));
  });

  it('is reproducible per seed, scales by std, and fills a range as the continuation of the sequence', () => {
    const again = new Float32Array(n);
    new Random(20001).fillNormal(again);
    expect(again.every((v, i) => v === z[i])).toBe(true);
    const scaled = new Float32Array(1000);
    new Random(20001).fillNormal(scaled, 0.25);
    for (let i = 0; i < 1000; i++) expect(scaled[i]).toBe(0.25 * z[i]);
    const parts = new Float32Array(1000);
    const rng = new Random(20001);
    rng.fillNormal(parts, 1, 0, 300);
    rng.fillNormal(parts, 1, 300, 1000);
    expect(parts).toEqual(z.subarray(0, 1000));
  });
});
