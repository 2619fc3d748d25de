import { describe, expect, it } from 'vitest';
import { COLORMAPS, colorize, colormap } from './colormap.js';
import { absPercentile, displayPlane } from './display.js';
import { gridLayout } from './grid.js';
import { drawBox, overlay, type RgbImage } from './image.js';

const rgbAt = (lut: Uint8Array, i: number) => Array.from(lut.slice(i * 3, i * 3 + 3));

describe('colormaps', () => {
  it('have the expected ends', () => {
    expect(rgbAt(colormap('grey'), 0)).toEqual([0, 0, 0]);
    expect(rgbAt(colormap('grey'), 255)).toEqual([255, 255, 255]);
    expect(rgbAt(colormap('jet'), 0)).toEqual([0, 0, 128]);
    expect(rgbAt(colormap('jet'), 255)).toEqual([128, 0, 0]);
    // Diverging: blue for negative, near-white at the centre, red for positive.
    const d = colormap('diverging');
    expect(d[0 * 3 + 2]).toBeGreaterThan(d[0 * 3]);
    expect(d[255 * 3]).toBeGreaterThan(d[255 * 3 + 2]);
    expect(Math.min(...rgbAt(d, 128))).toBeGreaterThan(230);
    // Perceptual maps rise in lightness.
    for (const name of ['viridis', 'inferno'] as const) {
      const lut = colormap(name);
      const l = (i: number) => 0.299 * lut[i * 3] + 0.587 * lut[i * 3 + 1] + 0.114 * lut[i * 3 + 2];
      expect(l(255)).toBeGreaterThan(l(128));
      expect(l(128)).toBeGreaterThan(l(0));
    }
    expect(COLORMAPS.every((n) => colormap(n).length === 768)).toBe(true);
    expect(() => colormap('hot')).toThrow(/unknown colormap "hot"; valid: jet, turbo/);
  });
  it('colorize clamps values to [0, 1]', () => {
    expect(Array.from(colorize(Float32Array.of(-1, 2), colormap('grey')))).toEqual([0, 0, 0, 255, 255, 255]);
  });
});

describe('display planes', () => {
  it('reduce channels by max |v|, clip at a percentile, and normalise', () => {
    // 2 channels × 2×2: max |v| per pixel = (1, 2, 3, 100).
    const data = Float32Array.of(1, -2, 0, 100, -0.5, 1, 3, 4);
    const p = displayPlane(data, [1, 2, 2, 2], 0, 2, 2, { reduce: 'abs-max', percentile: 75 });
    expect(Array.from(p.values)).toEqual([1 / 3, 2 / 3, 1, 1].map(Math.fround));
    expect(p.signed).toBe(false);
    expect(absPercentile([1, -5, 3, 2], 50)).toBe(2);
  });
  it('maps signed sums around 0.5', () => {
    const p = displayPlane(Float32Array.of(-2, 0, 1, 2), [1, 1, 2, 2], 0, 2, 2, { reduce: 'sum' });
    expect(Array.from(p.values)).toEqual([0, 0.5, 0.75, 1]);
    expect(p.signed).toBe(true);
  });
  it('upsamples layer maps to the image size', () => {
    const p = displayPlane(Float32Array.of(0, 1, 0, 1), [1, 1, 2, 2], 0, 4, 4);
    expect(p.values.length).toBe(16);
    expect(p.values[3]).toBe(1);
    expect(p.values[0]).toBe(0);
  });
});

describe('images', () => {
  const white: RgbImage = { width: 4, height: 4, data: new Uint8Array(48).fill(255) };
  it('overlay blends with alpha, or with alpha scaled by the value', () => {
    const bright = overlay(white, new Float32Array(16).fill(1), colormap('grey'), 0.5);
    expect(Array.from(bright.data.slice(0, 3))).toEqual([255, 255, 255]);
    const dark = overlay(white, new Float32Array(16), colormap('grey'), 0.5);
    expect(Array.from(dark.data.slice(0, 3))).toEqual([128, 128, 128]);
    const weighted = overlay(white, new Float32Array(16), colormap('grey'), 0.5, true);
    expect(Array.from(weighted.data.slice(0, 3))).toEqual([255, 255, 255]);
  });
  it('drawBox outlines exactly the box edges', () => {
    const img: RgbImage = { width: 4, height: 4, data: new Uint8Array(48) };
    drawBox(img, [1, 1, 3, 4], [9, 9, 9], 1);
    const on = Array.from({ length: 16 }, (_, j) => (img.data[j * 3] === 9 ? 1 : 0));
    expect(on).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0]);
  });
  it('grid layout places cells in rows and columns with labels', () => {
    const cell = { image: white, caption: 'a<b' };
    const g = gridLayout([{ label: 'row 1', cells: [cell, cell] }, { cells: [undefined, cell] }], {
      cell: 40,
      headers: ['x', 'y'],
    });
    expect(g.tiles).toHaveLength(3);
    expect(g.tiles[1].left - g.tiles[0].left).toBe(46);
    expect(g.tiles[2].top - g.tiles[0].top).toBe(40 + 16 + 6);
    expect(g.svg).toContain('a&lt;b');
    expect(g.width).toBe(6 + 130 + 2 * 46);
  });
});
