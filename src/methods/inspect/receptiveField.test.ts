import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../onnx/builder.js';
import type { Model } from '../../onnx/model.js';
import { makeStatic } from '../../onnx/static.js';
import { float32 } from '../../onnx/tensor.js';
import { ConvlensModel } from '../../runtime/model.js';
import { nodeBackend } from '../../runtime/node.js';
import {
  describeField,
  type Field,
  fieldRegion,
  type ReceptiveField,
  receptiveFields,
} from './receptiveField.js';

async function fieldsOf(model: Model, shape: number[]) {
  const s = await makeStatic(model, { x: shape }, nodeBackend());
  return { ...receptiveFields(s.model, s.types), static: s };
}

const field = (size: number, jump: number, start: number): ReceptiveField => ({
  size: [size, size],
  jump: [jump, jump],
  start: [start, start],
});

describe('receptive fields', () => {
  // Hand-computed with lo' = lo − p·j, hi' = hi + ((k−1)·d − p)·j, j' = j·s.
  it('compose kernels, strides, pads and dilations along a chain', async () => {
    const g = new GraphBuilder({ seed: 1 });
    const x = g.input('x', [1, 1, 32, 32]);
    const c1 = g.named(g.conv(x, { in: 1, out: 2, kernel: 3, pads: 1 }), 'c1'); // [-1, 1] j1
    const p1 = g.named(g.maxPool(c1, { kernel: 2, stride: 2 }), 'p1'); // [-1, 2] j2
    const c2 = g.named(g.conv(p1, { in: 2, out: 2, kernel: 3, pads: 1 }), 'c2'); // [-3, 4] j2
    const c3 = g.named(g.conv(c2, { in: 2, out: 2, kernel: 3, pads: 2, dilation: 2 }), 'c3'); // [-7, 8] j2
    const c4 = g.named(g.conv(c3, { in: 2, out: 2, kernel: 5, stride: 2, pads: 0 }), 'c4'); // [-7, 16] j4
    const a1 = g.named(g.averagePool(c4, { kernel: 3, stride: 1, pads: 1 }), 'a1'); // [-11, 20] j4
    const gap = g.named(g.globalAveragePool(a1), 'gap');
    const y = g.gemm(g.flatten(gap), { in: 2, out: 3 });
    const { fields, unknown } = await fieldsOf(g.build([y]), [1, 1, 32, 32]);
    const table: [string, Field][] = [
      ['x', field(1, 1, 0)],
      ['c1', field(3, 1, -1)],
      ['p1', field(4, 2, -1)],
      ['c2', field(8, 2, -3)],
      ['c3', field(16, 2, -7)],
      ['c4', field(24, 4, -7)],
      ['a1', field(32, 4, -11)],
      ['gap', 'global'],
      [y, 'global'],
    ];
    for (const [t, f] of table) expect(fields.get(t), t).toEqual(f);
    expect(unknown.size).toBe(0);
    expect(describeField(fields.get('c4'))).toBe('24×24 /4');
  });

  it('take the union where branches join (residual Add, inception Concat) and ignore global gates', async () => {
    const g = new GraphBuilder({ seed: 2 });
    const x = g.input('x', [1, 2, 16, 16]);
    const narrow = g.conv(x, { in: 2, out: 2, kernel: 1 }); // [0, 0]
    const wide = g.conv(x, { in: 2, out: 2, kernel: 5, pads: 2 }); // [-2, 2]
    const res = g.named(g.add(narrow, wide), 'res');
    const strided = g.conv(x, { in: 2, out: 2, kernel: [3, 1], pads: [1, 0, 1, 0] }); // h [-1, 1], w [0, 0]
    const cat = g.named(g.concat([narrow, strided]), 'cat');
    const gate = g.op('Sigmoid', [g.globalAveragePool(res)])[0];
    const se = g.named(g.mul(res, gate), 'se');
    const { fields } = await fieldsOf(g.build([cat, se]), [1, 2, 16, 16]);
    expect(fields.get('res')).toEqual(field(5, 1, -2));
    expect(fields.get('cat')).toEqual({ size: [3, 1], jump: [1, 1], start: [-1, 0] });
    expect(fields.get('se')).toEqual(field(5, 1, -2));
  });

  it('name the op and node when a layout change cannot be modelled', async () => {
    const g = new GraphBuilder({ seed: 3 });
    const x = g.input('x', [1, 1, 8, 8]);
    const t = g.named(g.transpose(g.conv(x, { in: 1, out: 2, kernel: 3, pads: 1 }), [0, 1, 3, 2]), 't');
    const after = g.named(g.relu(t), 'after');
    const { fields, unknown } = await fieldsOf(g.build([after]), [1, 1, 8, 8]);
    expect(fields.has('t')).toBe(false);
    expect(unknown.get('after')).toMatch(/op Transpose at node ".*" changes the spatial layout/);
  });

  // The field is the support of ∂unit/∂input on a ReLU-free network with dense random weights: exactly
  // for an interior unit; at the far border part of the field lies on intermediate padding, so the
  // support is inside it.
  it('equals the support of a unit’s input gradient', async () => {
    const g = new GraphBuilder({ seed: 4 });
    const x = g.input('x', [1, 1, 40, 40]);
    let h = g.conv(x, { in: 1, out: 3, kernel: 3, stride: 2, pads: [1, 0, 1, 0] });
    h = g.averagePool(h, { kernel: 3, stride: 1, pads: 1 });
    const side = g.conv(h, { in: 3, out: 3, kernel: 1 });
    h = g.conv(h, { in: 3, out: 3, kernel: 3, dilation: 2, pads: 2 });
    h = g.named(g.add(h, side), 'deep');
    const model = g.build([h]);
    const { fields, static: s } = await fieldsOf(model, [1, 1, 40, 40]);
    const f = fields.get('deep') as ReceptiveField;
    const [, c, hh, ww] = s.types.get('deep')!.dims;
    const m = new ConvlensModel(model, nodeBackend());
    for (const [uy, ux, exact] of [
      [5, 6, true],
      [9, 3, true],
      [0, 0, true],
      [hh - 1, ww - 1, false],
    ] as const) {
      const weights = new Float32Array(c * hh * ww);
      weights[uy * ww + ux] = 1;
      const r = await m.gradients(float32(new Float32Array(1600).fill(0.5), [1, 1, 40, 40]), {
        objective: [{ tensor: 'deep', weights: float32(weights, [1, c, hh, ww]) }],
      });
      const grad = r.gradients.x.data as Float32Array;
      const [y0, x0, y1, x1] = fieldRegion(f, uy, ux);
      for (let yy = 0; yy < 40; yy++)
        for (let xx = 0; xx < 40; xx++) {
          const inside = yy >= y0 && yy < y1 && xx >= x0 && xx < x1;
          const seen = grad[yy * 40 + xx] !== 0;
          if (exact || seen) expect(seen, `unit (${uy},${ux}) pixel (${yy},${xx})`).toBe(inside);
        }
    }
    await m.release();
  });
});
