import { describe, expect, it } from 'vitest';
import { Random } from './random.js';
import {
  type Affine,
  applyWarp,
  compose,
  IDENTITY,
  resizePlanes,
  similarity,
  warpAdjoint,
  warpPlan,
} from './warp.js';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const image = (planes: number, h: number, w: number, seed = 1) => new Random(seed).normals(planes * h * w);

describe('affine warps', () => {
  it('the identity plan reproduces the image', () => {
    const x = image(2, 5, 7);
    expect(applyWarp(warpPlan(5, 7, 5, 7, IDENTITY, 'fill'), x, 2)).toEqual(x);
  });

  it.each([
    ['integer shift', { dy: 1, dx: -2 }],
    ['rotation', { degrees: 17 }],
    ['scale and rotation', { scale: 1.3, degrees: -8, dx: 0.4 }],
    ['shrink', { scale: 0.7 }],
  ])('the adjoint satisfies ⟨Ax, g⟩ = ⟨x, Aᵀg⟩ (%s)', (_, t) => {
    for (const border of ['fill', 'replicate'] as const) {
      const plan = warpPlan(6, 8, 5, 9, similarity(6, 8, 5, 9, t), border);
      const x = image(3, 6, 8, 2);
      const g = image(3, 5, 9, 3);
      // With a zero fill the warp is linear in x.
      expect(dot(applyWarp(plan, x, 3), g)).toBeCloseTo(dot(x, warpAdjoint(plan, g, 3)), 4);
    }
  });

  it('shifts by whole pixels exactly, filling what enters from outside', () => {
    const x = image(1, 4, 4);
    const out = applyWarp(
      warpPlan(4, 4, 4, 4, similarity(4, 4, 4, 4, { dy: 1, dx: 2 }), 'fill'),
      x,
      1,
      () => 9,
    );
    for (let y = 0; y < 4; y++)
      for (let xx = 0; xx < 4; xx++)
        expect(out[y * 4 + xx]).toBeCloseTo(y >= 1 && xx >= 2 ? x[(y - 1) * 4 + xx - 2] : 9, 5);
  });

  it('a 90° rotation of a square image moves (y, x) to (x, W−1−y)', () => {
    const x = image(1, 5, 5);
    const out = applyWarp(warpPlan(5, 5, 5, 5, similarity(5, 5, 5, 5, { degrees: 90 }), 'fill'), x, 1);
    for (let y = 0; y < 5; y++)
      for (let xx = 0; xx < 5; xx++) expect(out[xx * 5 + (4 - y)]).toBeCloseTo(x[y * 5 + xx], 5);
  });

  it('composition applies the right-hand map first', () => {
    const a: Affine = [2, 0, 1, 0, 3, -1];
    const b: Affine = [0, 1, 0, 1, 0, 2];
    // b: (x, y) → (y, x + 2); then a: (X, Y) → (2X + 1, 3Y − 1).
    expect(compose(a, b)).toEqual([0, 2, 1, 3, 0, 5]);
  });

  it('resizing keeps constants and linear ramps (pixel-centre aligned)', () => {
    expect(
      resizePlanes(new Float32Array(12).fill(0.3), 1, 3, 4, 7, 5).every((v) => Math.abs(v - 0.3) < 1e-6),
    ).toBe(true);
    // A ramp x = column index, doubled in width: interior samples fall at (j + ½)/2 − ½.
    const ramp = Float32Array.from({ length: 8 }, (_, i) => i % 4);
    const up = resizePlanes(ramp, 1, 2, 4, 2, 8);
    for (let j = 1; j < 7; j++) expect(up[j]).toBeCloseTo((j + 0.5) / 2 - 0.5, 5);
  });
});
