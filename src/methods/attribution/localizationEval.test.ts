import { describe, expect, it } from 'vitest';
import { arrayDataset, type ObjectAnnotation, type Sample } from '../../data/dataset.js';
import { preprocessing } from '../../data/preprocess.js';
import { loadModel } from '../../node.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { float32 } from '../../onnx/tensor.js';
import { evaluateLocalization } from './localizationEval.js';
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
/** An 8×8 image that is `value` inside `box` and 0 elsewhere. */
function painted(box: Box, value: number): Float32Array {
  const image = new Float32Array(64);
  for (let y = box[1]; y < box[3]; y++) for (let x = box[0]; x < box[2]; x++) image[y * 8 + x] = value;
  return image;
}

describe('evaluateLocalization', () => {
  it('counts a box right when it matches any instance of the labelled class, never another class', async () => {
    const m = await signNet();
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
    const data = arrayDataset(
      { name: 'boxes', classes: ['bright', 'dark'], channels: 1, height: 8, width: 8 },
      samples,
    );
    const prep = { ...preprocessing([8, 8], 1), mean: [0], std: [1] };
    const report = await evaluateLocalization(m, data, prep, {
      method: 'gradcam',
      logits: 'logits',
      layer: 'A',
    }).finally(() => m.release());
    expect(report.samples).toBe(3);
    expect(report.boxAccuracy).toBeCloseTo(2 / 3, 12);
    expect(report.classification).toBe(1);
    expect(report.top1Localization).toBeCloseTo(2 / 3, 12);
    // IoU: 1 (B), the class-0 box A against B (0), and 1 (D).
    expect(report.meanIoU).toBeCloseTo(2 / 3, 12);
  });
});
