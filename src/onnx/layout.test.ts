import { describe, expect, it } from 'vitest';
import { Random } from '../maths/random.js';
import { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';
import { convnext, keras, resnet } from '../zoo/families.js';
import { GraphBuilder } from './builder.js';
import { axisRoles, channelsFirst, inputLayout, type Layout, toLayout } from './layout.js';
import type { Model } from './model.js';
import { makeStatic } from './static.js';
import { float32 } from './tensor.js';

/** A model whose input has `dims` and is read by one op (a Relu unless given). */
function reading(dims: (number | string)[], op = 'Relu', attrs: Record<string, number[]> = {}): Model {
  const b = new GraphBuilder();
  const x = b.input('x', dims);
  return b.build([b.op1(op, [x], attrs)]);
}

describe('input layout', () => {
  const cases: [string, () => Model, Layout | undefined][] = [
    ['tf2onnx: NHWC input and a leading Transpose to NCHW', () => keras({ seed: 1 }), 'nhwc'],
    ['the same network with an NCHW input', () => keras({ seed: 1, layout: 'nchw' }), 'nchw'],
    ['a Conv reading the input', () => resnet({ blocks: [1], widths: [4] }), 'nchw'],
    [
      'a Transpose to NCHW decides over the dims',
      () => reading([1, 3, 5, 3], 'Transpose', { perm: [0, 3, 1, 2] }),
      'nhwc',
    ],
    ['dims [N, 96, 96, 3]', () => reading(['n', 96, 96, 3]), 'nhwc'],
    ['dims [N, 1, 28, 28]', () => reading(['n', 1, 28, 28]), 'nchw'],
    ['dims [N, H, W, 3] with symbolic sides', () => reading(['n', 'h', 'w', 3]), 'nhwc'],
    ['ambiguous dims [1, 3, 8, 3]', () => reading([1, 3, 8, 3]), undefined],
    ['not an image', () => reading([1, 10]), undefined],
  ];
  it.each(cases)('%s', (_, make, expected) => expect(inputLayout(make())).toBe(expected));
});

describe('channels-last tensors and models', () => {
  it('moves data between NCHW and NHWC and back', () => {
    const t = float32(
      Array.from({ length: 12 }, (_, i) => i),
      [1, 3, 2, 2],
    );
    const nhwc = toLayout(t, 'nhwc');
    expect(nhwc.dims).toEqual([1, 2, 2, 3]);
    expect(Array.from(nhwc.data as Float32Array)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(toLayout(nhwc, 'nchw')).toEqual(t);
  });

  it('channelsFirst makes a channels-last model compute exactly what its NCHW twin does', async () => {
    const adapted = new ConvlensModel(channelsFirst(keras({ seed: 3 })), nodeBackend());
    const twin = new ConvlensModel(keras({ seed: 3, layout: 'nchw' }), nodeBackend());
    expect(adapted.model.graph.inputs[0]).toMatchObject({
      name: 'input',
      shape: ['batch', 3, 'height', 'width'],
    });
    const x = float32(new Random(2).normals(2 * 3 * 16 * 16), [2, 3, 16, 16]);
    const [a, b] = [await adapted.run(x), await twin.run(x)];
    const name = adapted.outputNames[0];
    expect(Array.from(a[name].data as Float32Array)).toEqual(
      Array.from(b[twin.outputNames[0]].data as Float32Array),
    );
    await Promise.all([adapted.release(), twin.release()]);
  });

  it("turns tf2onnx's leading Transpose into an Identity, and transposes any other reader's input", async () => {
    const adapted = channelsFirst(keras({ seed: 3 }));
    expect(adapted.graph.nodes[0]).toMatchObject({ opType: 'Identity', inputs: ['input'] });
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 4, 3]);
    const scaled = b.mul(x, b.param('s', float32([1, 2, 3])));
    const other = channelsFirst(b.build([b.transpose(scaled, [0, 3, 1, 2])]));
    expect(other.graph.nodes[0]).toMatchObject({ opType: 'Transpose', inputs: ['x'], outputs: ['x/nhwc'] });
    const data = float32(
      Array.from({ length: 48 }, (_, i) => i),
      [1, 3, 4, 4],
    );
    const m = new ConvlensModel(other, nodeBackend());
    const y = (await m.run(data))[other.graph.outputs[0].name];
    await m.release();
    // Channel c scaled by c + 1 (the NHWC broadcast still sees channels last).
    expect(Array.from(y.data as Float32Array)).toEqual(
      Array.from({ length: 48 }, (_, i) => i * (Math.floor(i / 16) + 1)),
    );
  });

  it('refuses a model whose input is not 4-D', () => {
    expect(() => channelsFirst(reading([1, 10]))).toThrow(/input "x" is not 4-D \(\[1, 10\]\)/);
  });
});

describe('axis roles', () => {
  it('trace NCHW from the convolutions through element-wise ops, permutes and channel-mixing MatMuls', async () => {
    const model = convnext({ depths: [1], dims: [8], seed: 1 });
    const s = await makeStatic(model, { input: [1, 3, 16, 16] }, nodeBackend());
    const roles = axisRoles(s.model, (t) => s.types.get(t)?.dims.length);
    const byOp = (op: string) =>
      s.model.graph.nodes.filter((n) => n.opType === op).map((n) => roles.get(n.outputs[0]));
    // Every Conv and the pool are NCHW; the residual Add after the block is NCHW again.
    for (const r of byOp('Conv')) expect(r).toEqual({ channel: 1, spatial: [2, 3] });
    expect(byOp('GlobalAveragePool')).toEqual([{ channel: 1, spatial: [2, 3] }]);
    expect(byOp('Add').at(-1)).toEqual({ channel: 1, spatial: [2, 3] });
    // LayerNorm runs channels-last: its outputs, the MLP's MatMuls and GELU keep channel axis 3.
    for (const op of ['LayerNormalization', 'MatMul'])
      for (const r of byOp(op)) expect(r).toEqual({ channel: 3, spatial: [1, 2] });
    // Flatten and the classifier end the trace.
    expect(byOp('Flatten')).toEqual([undefined]);
    expect(byOp('Gemm')).toEqual([undefined]);
  });
});
