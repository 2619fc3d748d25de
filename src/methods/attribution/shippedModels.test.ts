/** Properties of the attribution methods on the shipped models (trained weights, real images). */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelsDir } from '../../cli/common.js';
import { readCard } from '../../data/card.js';
import { loadMnist } from '../../data/node.js';
import { batchTensor } from '../../data/preprocess.js';
import { shapesSplits } from '../../data/shapes.js';
import { loadModel } from '../../node.js';
import type { ConvlensModel } from '../../runtime/model.js';
import { Explainer, explain } from './index.js';

const loaded: ConvlensModel[] = [];
afterAll(async () => Promise.all(loaded.map((m) => m.release())));

async function shipped(name: string) {
  const m = await loadModel(join(modelsDir(), `${name}.onnx`));
  loaded.push(m);
  const card = readCard(m.model)!;
  const data = card.dataset === 'mnist' ? loadMnist().test : shapesSplits().test;
  const { input } = batchTensor(data, [0, 7, 19], card.preprocessing);
  return new Explainer(m, input, {
    logits: card.tensors!.logits,
    features: card.tensors!.features,
    classes: card.classes,
  });
}

describe.each(['digits-gap', 'shapes-gap'])('%s', (name) => {
  it('Integrated Gradients is complete within 1% at 64 steps', async () => {
    const ex = await shipped(name);
    const { maps } = await explain(ex, { methods: ['ig'], params: { ig: { steps: 64 } } });
    for (const r of maps[0].diagnostics!.relativeDelta) expect(r).toBeLessThan(0.01);
  });

  it('CAM equals Grad-CAM up to a positive scale (α_k = w_ck / Z), to 1e-5 after normalisation', async () => {
    const ex = await shipped(name);
    const { maps } = await explain(ex, { methods: ['cam', 'gradcam'] });
    const [cam, grad] = maps;
    const area = cam.dims[2] * cam.dims[3];
    for (let i = 0; i < 3; i++) {
      const a = cam.data.subarray(i * area, (i + 1) * area);
      const b = grad.data.subarray(i * area, (i + 1) * area);
      const ma = Math.max(...a);
      const mb = Math.max(...b);
      expect(ma).toBeGreaterThan(0);
      for (let j = 0; j < area; j++) expect(Math.abs(a[j] / ma - b[j] / mb)).toBeLessThan(1e-5);
      // The scale is 1/Z with Z = h·w.
      expect(mb / ma).toBeCloseTo(1 / area, 5);
    }
  });

  it('every method returns finite maps of the documented shape for a batch', async () => {
    const ex = await shipped(name);
    const { maps } = await explain(ex, {
      methods: ['all'],
      params: { smoothgrad: { samples: 3 }, ig: { steps: 8 } },
    });
    const [n, c, h, w] = ex.input.dims;
    for (const m of maps) {
      if (m.resolution === 'input')
        expect(
          m.dims[0] === n && m.dims[2] === h && m.dims[3] === w && (m.dims[1] === c || m.dims[1] === 1),
        ).toBe(true);
      else expect(m.dims.slice(0, 2)).toEqual([n, 1]);
      expect(m.data.every(Number.isFinite)).toBe(true);
      expect(m.data.some((v) => v !== 0)).toBe(true);
    }
  });
});
