import { describe, expect, it } from 'vitest';
import { checkGradients, samplers } from '../autodiff/gradcheck.js';
import { shapesDataset } from '../data/shapes.js';
import { cloneModel } from '../onnx/model.js';
import { float32 } from '../onnx/tensor.js';
import { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';
import { SEGMENTER_TENSORS, unetSegmenter } from './segmenter.js';
import { argmaxClasses, pixelLabels, SegmentationTally, trainSegmenter } from './segmenterTraining.js';

describe('the U-Net segmenter', () => {
  it('keeps the image size and gives one logit per class and pixel', async () => {
    const m = new ConvlensModel(unetSegmenter({ classes: 5, width: 4, seed: 1 }), nodeBackend());
    const out = await m.run(float32(new Float32Array(2 * 3 * 16 * 12).fill(0.5), [2, 3, 16, 12]));
    expect(out[SEGMENTER_TENSORS.logits].dims).toEqual([2, 5, 16, 12]);
    await m.release();
  });

  it('per-pixel log-probabilities have the gradients finite differences give', async () => {
    const model = cloneModel(unetSegmenter({ classes: 3, width: 2, seed: 2 }));
    model.graph.nodes.push({
      name: 'logprob',
      opType: 'LogSoftmax',
      domain: '',
      inputs: ['logits'],
      outputs: ['logprob'],
      attrs: { axis: { type: 'int', value: 1 } },
    });
    model.graph.outputs = [{ name: 'logprob' }];
    const firstConv = model.graph.nodes.find((n) => n.opType === 'Conv')!.inputs[1];
    const result = await checkGradients(model, nodeBackend(), {
      inputShapes: { image: [1, 3, 8, 8] },
      wrt: ['image', firstConv],
      samplers: { image: samplers.uniform(0, 1) },
      alongGradient: true,
      step: 0.01,
    });
    for (const c of result.checks)
      expect(
        c.passed,
        `${c.wrt} (${c.direction}): analytic ${c.analytic} vs numeric ${c.numeric} ± ${c.standardError}`,
      ).toBe(true);
  });
});

describe('segmentation scores', () => {
  it('pixel accuracy and mean IoU from a confusion of hand-made maps', () => {
    const tally = new SegmentationTally(3);
    // truth 0 0 1 1 2 2; predicted 0 1 1 1 2 0
    tally.add(Uint8Array.from([0, 0, 1, 1, 2, 2]), Uint8Array.from([0, 1, 1, 1, 2, 0]));
    const s = tally.scores();
    expect(s.pixelAccuracy).toBeCloseTo(4 / 6, 12);
    // IoU: class 0: 1/(2+2−1) = 1/3; class 1: 2/(2+3−2) = 2/3; class 2: 1/(2+1−1) = 1/2
    expect(s.iou[0]).toBeCloseTo(1 / 3, 12);
    expect(s.iou[1]).toBeCloseTo(2 / 3, 12);
    expect(s.iou[2]).toBeCloseTo(1 / 2, 12);
    expect(s.meanIoU).toBeCloseTo((1 / 3 + 2 / 3 + 1 / 2) / 3, 12);
  });

  it('argmax over the class axis of [N, K, H, W] logits', () => {
    // one image, 2 classes, 3 pixels: class 1 wins at pixel 1 only
    const logits = Float32Array.from([1, 0, 2, 0, 5, 1]);
    expect([...argmaxClasses(logits, 1, 2, 3)]).toEqual([0, 1, 0]);
  });

  it('labels pixels 1 + the class of the object covering them, 0 elsewhere', () => {
    const sample = shapesDataset({ size: 32, seed: 1, length: 1 }).get(0);
    const labels = pixelLabels(sample, 32 * 32);
    for (const o of sample.objects ?? [])
      for (let p = 0; p < labels.length; p++) if (o.mask[p]) expect(labels[p]).toBe(o.classIndex + 1);
    const covered = (sample.objects ?? []).reduce((n, o) => n + o.mask.reduce((a, b) => a + b, 0), 0);
    expect(labels.filter((l) => l === 0).length).toBe(32 * 32 - covered);
  });
});

describe('segmenter training', () => {
  it('lowers the per-pixel cross-entropy on shapes', async () => {
    const data = shapesDataset({ size: 16, seed: 1, length: 64 });
    const { history } = await trainSegmenter(
      { data, model: unetSegmenter({ classes: 7, width: 4, seed: 3 }), steps: 40, batchSize: 8, lr: 1e-2 },
      nodeBackend(),
    );
    const mean = (h: { loss: number }[]) => h.reduce((s, p) => s + p.loss, 0) / h.length;
    expect(mean(history.slice(-5))).toBeLessThan(0.5 * mean(history.slice(0, 5)));
  });
});
