import { describe, expect, it } from 'vitest';
import { type Box, boxIoU, camBox } from './localize.js';

/** A map with a 3×2 blob of 1s and a separate single pixel of 0.9. */
function twoBlobs(): Float32Array {
  const m = new Float32Array(8 * 8);
  for (let y = 1; y < 4; y++) for (let x = 2; x < 4; x++) m[y * 8 + x] = 1;
  m[6 * 8 + 6] = 0.9;
  return m;
}

describe('camBox', () => {
  it('keeps the largest connected region above the threshold', () => {
    expect(camBox(twoBlobs(), 8, 8, 8, 8, 0.5)).toEqual([2, 1, 4, 4]);
  });
  it('connects diagonal neighbours (8-connectivity)', () => {
    const m = new Float32Array(16);
    m[0] = 1;
    m[5] = 1;
    m[10] = 1;
    m[3] = 1;
    expect(camBox(m, 4, 4, 4, 4, 0.5)).toEqual([0, 0, 3, 3]);
  });
  it('upsamples the map to the image before thresholding', () => {
    const m = new Float32Array(4);
    m[0] = 1;
    // A 2×2 map on an 8×8 image: the top-left cell covers pixels 0–3; bilinear spreads it.
    const box = camBox(m, 2, 2, 8, 8, 0.99)!;
    expect(box).toEqual([0, 0, 2, 2]);
    expect(camBox(m, 2, 2, 8, 8, 0.2)![2]).toBeGreaterThan(4);
  });
  it('is undefined for an all-zero map and rejects bad thresholds', () => {
    expect(camBox(new Float32Array(4), 2, 2, 4, 4, 0.2)).toBeUndefined();
    expect(() => camBox(new Float32Array(4), 2, 2, 4, 4, 1.5)).toThrow(/threshold must be in \[0, 1\]/);
  });
});

describe('boxIoU', () => {
  const cases: { a: Box; b: Box; iou: number }[] = [
    { a: [0, 0, 2, 2], b: [0, 0, 2, 2], iou: 1 },
    { a: [0, 0, 2, 2], b: [1, 0, 3, 2], iou: 2 / 6 },
    { a: [0, 0, 2, 2], b: [2, 2, 4, 4], iou: 0 },
    { a: [0, 0, 4, 4], b: [1, 1, 3, 3], iou: 4 / 16 },
  ];
  it.each(cases)('$a vs $b', ({ a, b, iou }) => {
    expect(boxIoU(a, b)).toBeCloseTo(iou, 10);
    expect(boxIoU(b, a)).toBeCloseTo(iou, 10);
  });
});
