import { describe, expect, it } from 'vitest';
import { channelsFirst } from '../../onnx/layout.js';
import type { Model } from '../../onnx/model.js';
import { float32 } from '../../onnx/tensor.js';
import { ConvlensModel } from '../../runtime/model.js';
import { nodeBackend } from '../../runtime/node.js';
import { smallFamilies } from '../../zoo/families.js';
import { explain } from './index.js';
import { Explainer } from './pipeline.js';

// The automatic layer of every reference family: the last map the convolutions lay out as
// [N, C, H, W] with H, W ≥ 2, never a head's pooled, permuted or normalised tensor.
const EXPECTED: Record<string, { size: number; opType: string; shape: number[] }> = {
  resnet: { size: 32, opType: 'Relu', shape: [1, 16, 4, 4] },
  mobilenetv2: { size: 32, opType: 'Clip', shape: [1, 32, 4, 4] },
  vgg: { size: 16, opType: 'MaxPool', shape: [1, 16, 4, 4] },
  inception: { size: 32, opType: 'Concat', shape: [1, 40, 5, 5] },
  // torchvision's head after it: GlobalAveragePool → permute → LayerNorm [1, 1, 1, 32] → permute.
  convnext: { size: 56, opType: 'Add', shape: [1, 32, 7, 7] },
  // tf2onnx's head after it: Transpose to NHWC [1, 8, 8, 16] → ReduceMean → MatMul.
  keras: { size: 32, opType: 'Relu', shape: [1, 16, 8, 8] },
};

const explainerFor = (model: Model, size: number) => {
  const m = new ConvlensModel(model.graph.name === 'keras' ? channelsFirst(model) : model, nodeBackend());
  const x = float32(new Float32Array(3 * size * size).fill(0.5), [1, 3, size, size]);
  return { m, explainer: new Explainer(m, x, { onWarning: () => {} }) };
};

describe('automatic feature map', () => {
  it.each(smallFamilies().map((f) => [f.name, f.model] as const))(
    '%s: the last real feature map',
    async (name, model) => {
      const want = EXPECTED[name];
      const { m, explainer } = explainerFor(model, want.size);
      const layer = await explainer.resolveLayer();
      const info = (await explainer.layers()).find((l) => l.tensor === layer)!;
      expect({ opType: info.opType, shape: info.shape }).toEqual({ opType: want.opType, shape: want.shape });
      const { maps } = await explain(explainer, { methods: ['gradcam'] });
      expect(maps[0].dims).toEqual([1, 1, ...want.shape.slice(2)]);
      await m.release();
    },
  );

  it('uses a tensor that is not a feature map when asked by name, with a warning', async () => {
    const model = smallFamilies().find((f) => f.name === 'convnext')!.model;
    const { m, explainer } = explainerFor(model, 56);
    const norm = model.graph.nodes.filter((n) => n.opType === 'LayerNormalization').at(-1)!.outputs[0];
    expect(await explainer.resolveLayer(norm)).toBe(norm);
    expect(explainer.warnings).toHaveLength(1);
    expect(explainer.warnings[0]).toMatch(
      /\(LayerNormalization, shape \[1, 1, 1, 32\]\) is not a feature map/,
    );
    await expect(explainer.resolveLayer('logits_missing')).rejects.toThrow(
      /not found; feature maps, nearest first/,
    );
    await m.release();
  });
});
