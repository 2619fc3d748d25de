import { describe, expect, it } from 'vitest';
import { Random } from '../maths/random.js';
import { GraphBuilder } from '../onnx/builder.js';
import { encodeModel } from '../onnx/model.js';
import { makeStatic } from '../onnx/static.js';
import { float32 } from '../onnx/tensor.js';
import { nodeBackend } from '../runtime/node.js';
import { buildGradientGraph, gradName, reluRuleMatters } from './engine.js';

/**
 * x → Conv 'c1' → Relu 'r1' → Conv 'c2' → GlobalAveragePool → Flatten → Gemm 'logits'
 * c1 → Clip(0, 6) → GlobalAveragePool → Flatten → Gemm 'side'
 * c2 → LeakyRelu → GlobalAveragePool → Flatten → Gemm 'third'
 */
function model() {
  const b = new GraphBuilder({ seed: 2 });
  const x = b.input('x', [2, 3, 6, 6]);
  const c1 = b.named(b.conv(x, { in: 3, out: 4, kernel: 3, pads: 1 }), 'c1');
  const r1 = b.named(b.relu(c1), 'r1');
  const c2 = b.named(b.conv(r1, { in: 4, out: 4, kernel: 3, pads: 1 }), 'c2');
  const head = (t: string, name: string) =>
    b.named(b.gemm(b.flatten(b.globalAveragePool(t)), { in: 4, out: 3 }), name);
  const logits = head(c2, 'logits');
  const clipped = b.op1('Clip', [c1, b.param('lo', float32([0], [])), b.param('hi', float32([6], []))]);
  const side = head(clipped, 'side');
  const third = head(b.op1('LeakyRelu', [c2], { alpha: 0.1 }), 'third');
  return b.build([logits, side, third]);
}

describe('reluRuleMatters', () => {
  const graph = model().graph;
  it.each([
    [['c2'], ['logits'], false],
    [['r1'], ['logits'], false],
    [['c1'], ['logits'], true],
    [['x'], ['logits'], true],
    [['x', 'c2'], ['logits'], true],
    [['c1'], ['side'], true],
    [['r1'], ['side'], false],
    [['c2'], ['third'], true],
    [['c2'], ['logits', 'third'], true],
  ])('wrt %j, objective %j: %s', (wrt, objective, matters) => {
    expect(reluRuleMatters(graph, wrt, objective)).toBe(matters);
  });

  it('where it does not matter, a guided run gives the vanilla gradient of those tensors', async () => {
    const backend = nodeBackend();
    const s = await makeStatic(model(), { x: [2, 3, 6, 6] }, backend);
    const x = float32(new Random(4).normals(2 * 3 * 6 * 6), [2, 3, 6, 6]);
    const gradients = async (wrt: string[], reluRule: 'vanilla' | 'guided') => {
      const g = buildGradientGraph(s, {
        objective: [{ tensor: 'logits', weights: 'argmax' }],
        wrt,
        reluRule,
      });
      const session = await backend.createSession(encodeModel(g).bytes);
      const out = await session.run({ x }, wrt.map(gradName));
      await session.release();
      return out;
    };
    const vanilla = await gradients(['x', 'c2'], 'vanilla');
    const guided = await gradients(['x', 'c2'], 'guided');
    const a = vanilla[gradName('c2')].data as Float32Array;
    const b = guided[gradName('c2')].data as Float32Array;
    // The same backward nodes compute both: equal up to float32 rounding.
    for (let i = 0; i < a.length; i++)
      expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(4 * 2 ** -23 * Math.abs(a[i]));
    expect(a.some((v) => v !== 0)).toBe(true);
    // The input gradient does pass through the Relu and differs.
    const ax = vanilla[gradName('x')].data as Float32Array;
    const bx = guided[gradName('x')].data as Float32Array;
    expect(ax.some((v, i) => Math.abs(v - bx[i]) > 1e-3 * Math.abs(v))).toBe(true);
  });
});
