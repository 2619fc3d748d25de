import { describe, expect, it } from 'vitest';
import { Random } from '../../maths/random.js';
import { type ParameterizationOptions, parameterize } from './parameterization.js';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

describe('image parameterisations', () => {
  it.each<[string, ParameterizationOptions]>([
    ['pixel', { name: 'pixel', dims: [2, 1, 5, 4] }],
    ['pixel, decorrelated colour', { name: 'pixel', dims: [1, 3, 4, 4], decorrelate: true }],
    ['fft, grey', { name: 'fft', dims: [2, 1, 6, 5] }],
    ['fft, decorrelated colour', { name: 'fft', dims: [1, 3, 6, 6] }],
  ])('backward is the gradient of ⟨x(θ), g⟩ (%s, central differences)', (_, options) => {
    const { param, theta } = parameterize(options, new Random(3));
    // Move θ off its start so sigmoids are not all at ½.
    const t0 = theta.map((v, i) => v + (options.name === 'fft' ? 4 : 0.05) * Math.sin(i));
    const g = new Random(4).normals(options.dims.reduce((a, b) => a * b, 1));
    const analytic = param.backward(t0, param.render(t0), g);
    const eps = 1e-2;
    for (let i = 0; i < t0.length; i += Math.max(1, Math.floor(t0.length / 23))) {
      const up = Float32Array.from(t0);
      const down = Float32Array.from(t0);
      up[i] += eps;
      down[i] -= eps;
      const numeric = (dot(param.render(up), g) - dot(param.render(down), g)) / (2 * eps);
      expect(analytic[i]).toBeCloseTo(numeric, 2);
    }
  });

  it('starting pixels survive the round trip through a decorrelated, squashed basis', () => {
    const pixels = Float32Array.from({ length: 3 * 16 }, (_, i) => 0.1 + (0.8 * ((i * 7) % 10)) / 10);
    const { param, theta } = parameterize(
      { name: 'pixel', dims: [1, 3, 4, 4], decorrelate: true },
      new Random(0),
      pixels,
    );
    const back = param.render(theta);
    for (let i = 0; i < pixels.length; i++) expect(back[i]).toBeCloseTo(pixels[i], 4);
  });

  it('fft starts near grey with energy falling with frequency', () => {
    const h = 32;
    const { param, theta } = parameterize({ name: 'fft', dims: [1, 1, h, h] }, new Random(1));
    const x = param.render(theta.map((v) => v * 100));
    // Neighbouring pixels of a 1/f image are strongly correlated; white noise would not be.
    let num = 0;
    let den = 0;
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx + 1 < h; xx++) {
        num += (x[y * h + xx] - mean) * (x[y * h + xx + 1] - mean);
        den += (x[y * h + xx] - mean) ** 2;
      }
    expect(num / den).toBeGreaterThan(0.5);
    expect(Math.abs(param.render(theta)[0] - 0.5)).toBeLessThan(0.05);
  });

  it('names what it cannot do', () => {
    expect(() =>
      parameterize({ name: 'pixel', dims: [1, 1, 4, 4], decorrelate: true }, new Random(0)),
    ).toThrow(/decorrelated colour needs 3 channels/);
    expect(() =>
      parameterize({ name: 'fft', dims: [1, 1, 4, 4] }, new Random(0), new Float32Array(16)),
    ).toThrow(/fft parameterisation starts from noise/);
  });
});
