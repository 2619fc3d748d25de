import { describe, expect, it } from 'vitest';
import { frequencies, halfSpectrum, inverseHalfSpectrum, inverseHalfSpectrumAdjoint } from './fourier.js';
import { Random } from './random.js';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

describe('real inverse DFT from a half spectrum', () => {
  it.each([
    [4, 6],
    [5, 7],
    [6, 5],
  ])('equals the full complex inverse DFT of the Hermitian extension (%i×%i)', (h, w) => {
    const t = halfSpectrum(h, w);
    const z = new Random(h * w).normals(h * t.wf * 2);
    // Hermitian full spectrum F[u, v]: the half spectrum for v < Wf, conj(F[−u, −v]) beyond; the
    // self-conjugate cells (v = 0 and Nyquist) keep only their Hermitian part, as irfft does.
    const full = (u: number, v: number): [number, number] => {
      if (v < t.wf && !(v === 0 || (w % 2 === 0 && v === w / 2)))
        return [z[(u * t.wf + v) * 2], z[(u * t.wf + v) * 2 + 1]];
      if (v >= t.wf) {
        const [uu, vv] = [(h - u) % h, w - v];
        return [z[(uu * t.wf + vv) * 2], -z[(uu * t.wf + vv) * 2 + 1]];
      }
      // Hermitian part of a self-conjugate column: (Z[u] + conj Z[−u]) / 2.
      const a = (u * t.wf + v) * 2;
      const b = (((h - u) % h) * t.wf + v) * 2;
      return [(z[a] + z[b]) / 2, (z[a + 1] - z[b + 1]) / 2];
    };
    const x = inverseHalfSpectrum(t, z, 1);
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let re = 0;
        for (let u = 0; u < h; u++)
          for (let v = 0; v < w; v++) {
            const [a, b] = full(u, v);
            const ang = 2 * Math.PI * ((u * y) / h + (v * xx) / w);
            re += a * Math.cos(ang) - b * Math.sin(ang);
          }
        expect(x[y * w + xx]).toBeCloseTo(re, 3);
      }
  });

  it('one coefficient gives one plane wave', () => {
    const t = halfSpectrum(8, 8);
    const z = new Float32Array(8 * t.wf * 2);
    z[(1 * t.wf + 2) * 2] = 1; // u = 1, v = 2
    const x = inverseHalfSpectrum(t, z, 1);
    for (let y = 0; y < 8; y++)
      for (let xx = 0; xx < 8; xx++)
        expect(x[y * 8 + xx]).toBeCloseTo(2 * Math.cos(2 * Math.PI * (y / 8 + (2 * xx) / 8)), 5);
  });

  it('the adjoint satisfies ⟨Lz, g⟩ = ⟨z, Lᵀg⟩', () => {
    for (const [h, w] of [
      [6, 6],
      [5, 8],
      [7, 3],
    ]) {
      const t = halfSpectrum(h, w);
      const z = new Random(1).normals(2 * h * t.wf * 2);
      const g = new Random(2).normals(2 * h * w);
      expect(dot(inverseHalfSpectrum(t, z, 2), g)).toBeCloseTo(
        dot(z, inverseHalfSpectrumAdjoint(t, g, 2)),
        3,
      );
    }
  });

  it('frequencies follow numpy fftfreq (rows) and rfftfreq (columns)', () => {
    const f = frequencies(4, 5);
    // rows u = 0, 1, 2, 3 → 0, 0.25, −0.5, −0.25; columns v = 0, 1, 2 → 0, 0.2, 0.4
    expect(Array.from(f.subarray(0, 3))).toEqual([0, 0.2, 0.4].map((v) => expect.closeTo(v, 9)));
    expect(f[2 * 3 + 0]).toBeCloseTo(0.5, 9);
    expect(f[3 * 3 + 1]).toBeCloseTo(Math.hypot(0.25, 0.2), 9);
  });
});
