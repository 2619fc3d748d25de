import { describe, expect, it } from 'vitest';
import { arrayDataset, type ObjectAnnotation, type Sample } from '../../data/dataset.js';
import { preprocessing } from '../../data/preprocess.js';
import { loadModel } from '../../node.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { float32 } from '../../onnx/tensor.js';
import { bestThreshold, evaluateLocalization } from './localizationEval.js';
import type { Box } from './localize.js';

/**
 * x [n, 1, 8, 8] → 1×1 conv (1, −1) → ReLU → GAP → identity Gemm: class 0's Grad-CAM is relu(x)
 * and class 1's is relu(−x) (both up to a positive scale), so each map's box is exactly where the
 * image is bright (class 0) or dark (class 1).
 */
async function signNet() {
  const b = new GraphBuilder();
  b.input('x', ['n', 1, 8, 8]);
  const a = b.named(
    b.relu(b.conv('x', { in: 1, out: 2, kernel: 1, weight: float32([1, -1], [2, 1, 1, 1]), bias: false })),
    'A',
  );
  const logits = b.named(
    b.gemm(b.flatten(b.globalAveragePool(a)), { in: 2, out: 2, weight: float32([1, 0, 0, 1], [2, 2]) }),
    'logits',
  );
  return loadModel(b.build([logits]));
}

const object = (classIndex: number, box: Box): ObjectAnnotation => ({
  classIndex,
  box,
  mask: new Uint8Array(64),
});
/** An 8×8 image that is `value` inside `box` (over `image`, default 0 elsewhere). */
function painted(box: Box, value: number, image: ArrayLike<number> = new Float32Array(64)): Float32Array {
  const out = Float32Array.from(image);
  for (let y = box[1]; y < box[3]; y++) for (let x = box[0]; x < box[2]; x++) out[y * 8 + x] = value;
  return out;
}

/** Grad-CAM boxes of the sign net at `A` over 8×8 samples, scored by evaluateLocalization. */
async function localize(samples: Sample[], thresholds?: number[]) {
  const m = await signNet();
  const data = arrayDataset(
    { name: 'boxes', classes: ['bright', 'dark'], channels: 1, height: 8, width: 8 },
    samples,
  );
  const prep = { ...preprocessing([8, 8], 1), mean: [0], std: [1] };
  return evaluateLocalization(m, data, prep, {
    method: 'gradcam',
    logits: 'logits',
    layer: 'A',
    thresholds,
  }).finally(() => m.release());
}

describe('evaluateLocalization', () => {
  it('counts a box right when it matches any instance of the labelled class, never another class', async () => {
    const [A, B, D]: Box[] = [
      [0, 0, 3, 3],
      [4, 4, 8, 8],
      [2, 2, 6, 6],
    ];
    const samples: Sample[] = [
      // The CAM finds the second instance of class 0: right.
      { image: painted(B, 1), label: 0, objects: [object(0, A), object(0, B)] },
      // The CAM finds an object of class 1 while the label is 0: wrong.
      { image: painted(B, 1), label: 0, objects: [object(0, A), object(1, B)] },
      // Class 1's map is the dark square: right.
      { image: painted(D, -1), label: 1, objects: [object(1, D)] },
    ];
    const report = await localize(samples);
    expect(report.samples).toBe(3);
    expect(report.boxAccuracy).toBeCloseTo(2 / 3, 12);
    expect(report.classification).toBe(1);
    expect(report.top1Localization).toBeCloseTo(2 / 3, 12);
    // IoU: 1 (B), the class-0 box A against B (0), and 1 (D).
    expect(report.meanIoU).toBeCloseTo(2 / 3, 12);
  });

  it('scores a threshold sweep from the same maps and picks the best (lowest among ties)', async () => {
    const [inner, outer]: Box[] = [
      [2, 2, 6, 6],
      [1, 1, 7, 7],
    ];
    // The map is 1 on `inner` and 0.3 on the ring around it: at ≤ 0.3 of max the box is `outer`
    // (IoU with `inner` 16/36), above 0.3 it is `inner`.
    const image = painted(inner, 1, painted(outer, 0.3));
    const samples: Sample[] = [
      { image, label: 0, objects: [object(0, inner)] },
      { image, label: 0, objects: [object(0, outer)] },
      { image, label: 0, objects: [object(0, inner)] },
    ];
    const report = await localize(samples, [0.2, 0.5, 1]);
    const ring = 16 / 36;
    const cases: [number, number, number][] = [
      // threshold, box accuracy, mean IoU
      [0.15, 1 / 3, (1 + 2 * ring) / 3],
      [0.2, 1 / 3, (1 + 2 * ring) / 3],
      [0.5, 2 / 3, (2 + ring) / 3],
      [1, 2 / 3, (2 + ring) / 3],
    ];
    const scores = [report, ...report.sweep!];
    expect(scores.map((s) => s.threshold)).toEqual(cases.map((c) => c[0]));
    for (const [i, [, accuracy, iou]] of cases.entries()) {
      expect(scores[i].boxAccuracy).toBeCloseTo(accuracy, 12);
      expect(scores[i].top1Localization).toBeCloseTo(accuracy, 12);
      expect(scores[i].meanIoU).toBeCloseTo(iou, 12);
    }
    expect(bestThreshold(report.sweep!).threshold).toBe(0.5);
  });

  it('refuses a threshold outside [0, 1] and an empty sweep', async () => {
    const blank = { image: new Float32Array(64), label: 0, objects: [object(0, [0, 0, 8, 8])] };
    await expect(localize([blank], [0.2, 1.5])).rejects.toThrow(/box threshold must be in \[0, 1\], got 1.5/);
    expect(() => bestThreshold([])).toThrow(/no thresholds/);
  });
});
