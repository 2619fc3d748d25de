import { describe, expect, it } from 'vitest';
import { Random } from '../../maths/random.js';
import { nodeBackend } from '../../runtime/node.js';
import { type ParameterizationOptions, parameterize } from './parameterization.js';
import { jsSpectrum, onnxSpectrum } from './spectrum.js';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

describe('image parameterisations', () => {
  it.each<[string, ParameterizationOptions]>([
    ['pixel', { name: 'pixel', dims: [2, 1, 5, 4] }],
    ['pixel, decorrelated colour', { name: 'pixel', dims: [1, 3, 4, 4], decorrelate: true }],
    ['fft, grey', { name: 'fft', dims: [2, 1, 6, 5] }],
    ['fft, decorrelated colour', { name: 'fft', dims: [1, 3, 6, 6] }],
    ['fft on onnxruntime', { name: 'fft', dims: [1, 3, 6, 7], spectrum: onnxSpectrum(6, 7, nodeBackend()) }],
  ])('backward is the gradient of ⟨x(θ), g⟩ (%s, central differences)', async (_, options) => {
    const { param, theta } = parameterize(options, new Random(3));
    // Move θ off its start so sigmoids are not all at ½.
    const t0 = theta.map((v, i) => v + (options.name === 'fft' ? 4 : 0.05) * Math.sin(i));
    const g = new Random(4).normals(options.dims.reduce((a, b) => a * b, 1));
    const analytic = await param.backward(t0, await param.render(t0), g);
    const eps = 1e-2;
    for (let i = 0; i < t0.length; i += Math.max(1, Math.floor(t0.length / 23))) {
      const up = Float32Array.from(t0);
      const down = Float32Array.from(t0);
      up[i] += eps;
      down[i] -= eps;
      const numeric = (dot(await param.render(up), g) - dot(await param.render(down), g)) / (2 * eps);
      expect(analytic[i]).toBeCloseTo(numeric, 2);
    }
    await options.spectrum?.release();
  });

  it('starting pixels survive the round trip through a decorrelated, squashed basis', async () => {
    const pixels = Float32Array.from({ length: 3 * 16 }, (_, i) => 0.1 + (0.8 * ((i * 7) % 10)) / 10);
    const { param, theta } = parameterize(
      { name: 'pixel', dims: [1, 3, 4, 4], decorrelate: true },
      new Random(0),
      pixels,
    );
    const back = await param.render(theta);
    for (let i = 0; i < pixels.length; i++) expect(back[i]).toBeCloseTo(pixels[i], 4);
  });

  it('fft starts near grey with energy falling with frequency', async () => {
    const h = 32;
    const { param, theta } = parameterize({ name: 'fft', dims: [1, 1, h, h] }, new Random(1));
    const x = await param.render(theta.map((v) => v * 100));
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
    expect(Math.abs((await param.render(theta))[0] - 0.5)).toBeLessThan(0.05);
  });

  it('names what it cannot do', () => {
    expect(() =>
      parameterize({ name: 'pixel', dims: [1, 1, 4, 4], decorrelate: true }, new Random(0)),
    ).toThrow(/decorrelated colour needs 3 channels/);
    expect(() =>
      parameterize({ name: 'fft', dims: [1, 1, 4, 4] }, new Random(0), new Float32Array(16)),
    ).toThrow(/fft parameterisation starts from noise/);
  });

  it('the onnxruntime inverse DFT and its adjoint equal the JavaScript ones', async () => {
    for (const [h, w] of [
      [5, 8],
      [7, 7],
    ]) {
      const [js, ort] = [jsSpectrum(h, w), onnxSpectrum(h, w, nodeBackend())];
      const wf = Math.floor(w / 2) + 1;
      const z = new Random(h).normals(2 * h * wf * 2);
      const g = new Random(w).normals(2 * h * w);
      const [a, b] = [await js.inverse(z, 2), await ort.inverse(z, 2)];
      const [da, db] = [await js.adjoint(g, 2), await ort.adjoint(g, 2)];
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 4);
      for (let i = 0; i < da.length; i++) expect(db[i]).toBeCloseTo(da[i], 4);
      await ort.release();
    }
  });
});
