import { describe, expect, it } from 'vitest';
import { affineImage, transformImage } from './augment.js';
import { arrayDataset, holdOut, resizeImage } from './dataset.js';
import { mnistSplits } from './mnist.js';
import { batchTensor, normalizeInto, preprocessing } from './preprocess.js';

describe('preprocessing', () => {
  it('normalises per channel: (p − mean) / std', () => {
    const p = preprocessing([1, 2], 3, 'imagenet');
    const out = new Float32Array(6);
    normalizeInto(Float32Array.from([0, 1, 0.5, 0.5, 1, 0]), 3, p, out);
    const expected = [
      (0 - 0.485) / 0.229,
      (1 - 0.485) / 0.229,
      (0.5 - 0.456) / 0.224,
      (0.5 - 0.456) / 0.224,
      (1 - 0.406) / 0.225,
      -0.406 / 0.225,
    ];
    for (const [i, v] of expected.entries()) expect(out[i]).toBeCloseTo(v, 5);
  });

  it('repeats grey into RGB and converts RGB to grey with BT.601 luma', () => {
    const rgb = new Float32Array(3);
    normalizeInto(Float32Array.from([0.25]), 1, preprocessing([1, 1], 3, 'symmetric'), rgb);
    expect(Array.from(rgb)).toEqual([-0.5, -0.5, -0.5]);
    const grey = new Float32Array(1);
    normalizeInto(Float32Array.from([1, 0, 0]), 3, preprocessing([1, 1], 1), grey);
    expect(grey[0]).toBeCloseTo(0.299, 6);
  });

  it('batches samples NCHW with labels, and refuses a size mismatch', () => {
    const data = arrayDataset({ name: 'd', classes: ['a', 'b'], channels: 1, height: 1, width: 2 }, [
      { image: Float32Array.from([0, 1]), label: 1 },
      { image: Float32Array.from([1, 0]), label: 0 },
    ]);
    const { input, labels } = batchTensor(data, [1, 0], preprocessing([1, 2], 1));
    expect(input.dims).toEqual([2, 1, 1, 2]);
    expect(Array.from(input.data as Float32Array)).toEqual([1, 0, 0, 1]);
    expect(Array.from(labels)).toEqual([0, 1]);
    expect(() => batchTensor(data, [0], preprocessing([2, 2], 1))).toThrow(
      /dataset "d" is 1×2; the model takes 2×2/,
    );
  });

  it('shifts with replicated edges and mirrors', () => {
    const img = Float32Array.from([1, 2, 3, 4, 5, 6]); // 1×2×3
    expect(Array.from(transformImage(img, 1, 2, 3, 1, 0, false))).toEqual([1, 1, 2, 4, 4, 5]);
    expect(Array.from(transformImage(img, 1, 2, 3, 0, -1, false))).toEqual([4, 5, 6, 4, 5, 6]);
    expect(Array.from(transformImage(img, 1, 2, 3, 0, 0, true))).toEqual([3, 2, 1, 6, 5, 4]);
  });

  it('rotates and scales about the centre', () => {
    const img = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]); // 3×3
    expect(Array.from(affineImage(img, 1, 3, 3, 0, 1))).toEqual(Array.from(img));
    // angle π/2 turns the picture a quarter clockwise as displayed (y down).
    expect(
      Array.from(affineImage(img, 1, 3, 3, Math.PI / 2, 1)).map((v) => Math.round(v * 1e6) / 1e6),
    ).toEqual([7, 4, 1, 8, 5, 2, 9, 6, 3]);
    // Zoom ×2 about the centre pixel: the corners read the points halfway to the centre.
    expect(affineImage(img, 1, 3, 3, 0, 2)[0]).toBeCloseTo(3, 6);
  });

  it('resizes bilinearly with aligned pixel centres', () => {
    expect(Array.from(resizeImage(Float32Array.from([0, 1]), 1, 1, 2, 1, 4))).toEqual([0, 0.25, 0.75, 1]);
    expect(Array.from(resizeImage(Float32Array.from([0, 1, 2, 3]), 1, 2, 2, 1, 1))).toEqual([1.5]);
  });
});

describe('splits', () => {
  it('MNIST: every fifth digit of each class is test', () => {
    const digits = Array.from({ length: 10 }, (_, k) => new Float32Array(784 * (k + 5)).fill(k / 10));
    const { train, test } = mnistSplits(digits);
    const total = digits.reduce((a, d) => a + d.length / 784, 0);
    expect(test.length).toBe(digits.reduce((a, d) => a + Math.floor(d.length / 784 / 5), 0));
    expect(train.length + test.length).toBe(total);
    expect(test.get(0).label).toBe(0);
    expect(train.get(train.length - 1).label).toBe(9);
    expect(() => mnistSplits(digits.slice(1))).toThrow(/expected 10 digit classes/);
  });

  it('holdOut spreads the held-out part evenly', () => {
    const data = arrayDataset(
      { name: 'd', classes: ['a'], channels: 1, height: 1, width: 1 },
      Array.from({ length: 20 }, (_, i) => ({ image: Float32Array.from([i]), label: 0 })),
    );
    const { kept, heldOut } = holdOut(data, 0.25);
    expect(heldOut.length).toBe(5);
    expect(kept.length).toBe(15);
    expect(Array.from({ length: 5 }, (_, i) => heldOut.get(i).image[0])).toEqual([3, 7, 11, 15, 19]);
  });
});
