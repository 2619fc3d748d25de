import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelFile, writeModelFile } from '../node.js';
import { nodeBackend } from '../runtime/node.js';
import { GraphBuilder } from './builder.js';
import { topologicalOrder } from './graph.js';
import { decodeModel, encodeModel } from './model.js';
import { makeStatic } from './static.js';
import { float32, int64, tensorFromProto, toNumbers } from './tensor.js';

const dir = mkdtempSync(join(tmpdir(), 'convlens-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function smallNet() {
  const b = new GraphBuilder({ seed: 4 });
  b.input('x', ['n', 3, 8, 8]);
  const h = b.relu(b.conv('x', { in: 3, out: 4, kernel: 3, pads: 1 }));
  return b.build([b.gemm(b.torchFlatten(h), { in: 256, out: 5 })], { 'convlens.card': '{"classes":5}' });
}

describe('ONNX model I/O', () => {
  it('round-trips nodes, attributes, initializers, opsets and metadata', () => {
    const m = smallNet();
    const back = decodeModel(encodeModel(m).bytes);
    expect(back.opsets).toEqual({ '': 13 });
    expect(back.metadata).toEqual({ 'convlens.card': '{"classes":5}' });
    expect(back.graph.nodes.map((n) => n.opType)).toEqual(m.graph.nodes.map((n) => n.opType));
    const conv = back.graph.nodes.find((n) => n.opType === 'Conv')!;
    expect(conv.attrs.pads).toEqual({ type: 'ints', value: [1, 1, 1, 1] });
    for (const [name, t] of m.graph.initializers) {
      expect(Array.from(back.graph.initializers.get(name)!.data as ArrayLike<number | bigint>)).toEqual(
        Array.from(t.data as ArrayLike<number | bigint>),
      );
    }
    expect(back.graph.inputs[0].shape).toEqual(['n', 3, 8, 8]);
  });

  it('stores large initializers as external data beside the file and reads them back', async () => {
    const m = smallNet();
    const path = join(dir, 'net.onnx');
    writeModelFile(path, m, { externalData: { location: 'net.onnx.data', threshold: 100 } });
    expect(readFileSync(path).byteLength).toBeLessThan(2000);
    expect(readFileSync(join(dir, 'net.onnx.data')).byteLength).toBeGreaterThan(256 * 5 * 4);
    const back = readModelFile(path);
    const w = [...m.graph.initializers.entries()].find(([, t]) => t.data.length === 1280)!;
    expect(Array.from(back.graph.initializers.get(w[0])!.data as Float32Array)).toEqual(
      Array.from(w[1].data as Float32Array),
    );
    // convlens hands onnxruntime self-contained bytes: the loaded tensors are inline.
    const s = await nodeBackend().createSession(encodeModel(back).bytes);
    expect(s.outputNames).toHaveLength(1);
    await s.release();
  });

  it('reads float_data / int64_data / int32_data tensors (non-raw encodings)', () => {
    expect(toNumbers(tensorFromProto({ name: 'f', dims: [2], data_type: 1, float_data: [1.5, -2] }))).toEqual(
      [1.5, -2],
    );
    const long = { toNumber: () => -7 };
    const i = tensorFromProto({ name: 'i', dims: [2], data_type: 7, int64_data: [3, long] });
    expect(i.dtype).toBe('int64');
    expect(toNumbers(i)).toEqual([3, -7]);
    expect(toNumbers(tensorFromProto({ name: 'b', dims: [3], data_type: 9, int32_data: [1, 0, 1] }))).toEqual(
      [1, 0, 1],
    );
    expect(() => tensorFromProto({ name: 'short', dims: [3], data_type: 1, float_data: [1] })).toThrow(
      /"short".*holds 1 values/,
    );
    expect(() => tensorFromProto({ name: 's', dims: [1], data_type: 8 })).toThrow(
      /"s": ONNX data type 8 is not supported/,
    );
  });

  it('says a file that is not a model is not an ONNX model, naming it', () => {
    const path = join(dir, 'bad.onnx');
    writeFileSync(path, 'definitely not protobuf \u0000\u00ff');
    expect(() => readModelFile(path)).toThrow(/bad\.onnx.*not an ONNX model/);
    expect(() => readModelFile(join(dir, 'missing.onnx'))).toThrow(/does not exist/);
  });

  it('orders nodes topologically and names cycles', () => {
    const m = smallNet();
    const order = topologicalOrder({ ...m.graph, nodes: [...m.graph.nodes].reverse() });
    const seen = new Set(['x', ...m.graph.initializers.keys()]);
    for (const n of order) {
      for (const i of n.inputs) expect(seen.has(i), `${n.name} reads ${i} before it exists`).toBe(true);
      for (const o of n.outputs) seen.add(o);
    }
    const cyclic = structuredClone(m.graph.nodes);
    cyclic[0].inputs[0] = cyclic[1].outputs[0];
    expect(() => topologicalOrder({ ...m.graph, nodes: cyclic })).toThrow(/cycle/);
  });
});

describe('makeStatic', () => {
  it('finds every intermediate shape and folds the PyTorch flatten chain', async () => {
    const s = await makeStatic(smallNet(), [2, 3, 8, 8], nodeBackend());
    const ops = s.model.graph.nodes.map((n) => n.opType);
    expect(ops).not.toContain('Shape');
    expect(ops).not.toContain('Concat');
    const reshape = s.model.graph.nodes.find((n) => n.opType === 'Reshape')!;
    expect(toNumbers(s.model.graph.initializers.get(reshape.inputs[1])!)).toEqual([2, -1]);
    expect(s.types.get(reshape.outputs[0])!.dims).toEqual([2, 256]);
    expect(s.types.get(s.model.graph.outputs[0].name)!.dims).toEqual([2, 5]);
  });

  it('turns Constant nodes into initializers', async () => {
    const b = new GraphBuilder();
    b.input('x', [2, 3]);
    const c = b.op1('Constant', [], { value: float32([1, 2, 3], [3]) });
    const shape = b.op1('Constant', [], { value: int64([3, 2]) });
    const y = b.op1('Reshape', [b.add('x', c), shape]);
    const s = await makeStatic(b.build([y]), [2, 3], nodeBackend());
    expect(s.model.graph.nodes.map((n) => n.opType)).toEqual(['Add', 'Reshape']);
    expect(s.types.get(y)!.dims).toEqual([3, 2]);
  });

  it('names the input whose size is missing or wrong', async () => {
    await expect(makeStatic(smallNet(), { x: [2, 1, 8, 8] }, nodeBackend())).rejects.toThrow(
      /input "x" has fixed size 3 on axis 1/,
    );
    await expect(makeStatic(smallNet(), {}, nodeBackend())).rejects.toThrow(/input "x" has dynamic shape/);
  });
});
