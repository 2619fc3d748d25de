/**
 * The same model computing in float64, for finite-difference checks that float32 rounding cannot
 * blur. onnxruntime's CPU provider has no double kernel for Conv, GlobalAveragePool or Erf, so
 * they are rewritten into ops that have one:
 * - Conv (2-D): zero Pad, one strided Slice per kernel offset (im2col), one MatMul per group
 *   batch, bias Add;
 * - GlobalAveragePool: ReduceMean over the spatial axes, keepdims;
 * - Erf: erf(x) = 2/√π · x·e^(−x²) · Σₙ (2x²)ⁿ / (2n+1)!!  (Abramowitz & Stegun 7.1.6, all terms
 *   positive, so no cancellation), x clipped to ±6, where 1 − erf(6) < 3e-17.
 * Everything else keeps its op; float32 inputs, initializers, outputs, Cast targets and tensor
 * attributes become float64. Run it with graph optimisation disabled: onnxruntime's rewrites of
 * long double Mul/Add chains are lossy (the Erf series is off by 7e-3 at x = 5 with them).
 */

import { cloneModel, defaultOpset, type Model, type Node } from './model.js';
import type { TensorType } from './static.js';
import { int64, type Tensor } from './tensor.js';

const FLOAT = 1;
const DOUBLE = 11;

const asDouble = (t: Tensor): Tensor =>
  t.dtype === 'float32'
    ? { dtype: 'float64', dims: t.dims, data: Float64Array.from(t.data as Float32Array) }
    : t;

const double = (values: number[], dims: number[] = [values.length]): Tensor => ({
  dtype: 'float64',
  dims,
  data: Float64Array.from(values),
});

/** Terms of the Erf series: the remainder after them is below 1e-17 of the sum for |x| ≤ 6. */
const ERF_TERMS = 140;
const ERF_CLIP = 6;

/**
 * Rewrite `model` to run in float64. `types` are the static shapes of every tensor (from
 * `makeStatic`); Conv needs them. Throws naming the node when a Conv cannot be lowered (not 2-D).
 *
 * @example
 * ```ts
 * const s = await makeStatic(model, [1, 3, 32, 32], nodeBackend());
 * const f64 = encodeModel(toFloat64(s.model, s.types)).bytes;
 * const session = await nodeBackend().createSession(f64, { graphOptimization: 'disabled' });
 * ```
 */
export function toFloat64(model: Model, types: Map<string, TensorType>): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const opset = defaultOpset(m);
  for (const [k, t] of g.initializers) g.initializers.set(k, asDouble(t));
  for (const v of [...g.inputs, ...g.outputs]) if (v.dtype === 'float32') v.dtype = 'float64';
  g.valueInfo = new Map();

  let counter = 0;
  const fresh = (base: string) => `${base}__f64_${counter++}`;
  const constant = (base: string, t: Tensor) => {
    const name = fresh(base);
    g.initializers.set(name, t);
    return name;
  };
  const nodes: Node[] = [];
  const emit = (opType: string, inputs: string[], attrs: Node['attrs'] = {}, output?: string): string => {
    const out = output ?? fresh(opType.toLowerCase());
    nodes.push({ name: fresh(`${opType}_node`), opType, domain: '', inputs, outputs: [out], attrs });
    return out;
  };
  const reshape = (x: string, dims: number[], output?: string) =>
    emit('Reshape', [x, constant('shape', int64(dims))], {}, output);

  const lowerConv = (n: Node) => {
    const [x, w, bias] = n.inputs;
    const xs = types.get(x)?.dims;
    const ws = types.get(w)?.dims;
    const ys = types.get(n.outputs[0])?.dims;
    if (!xs || !ws || !ys || xs.length !== 4)
      throw new Error(`node "${n.name}" (Conv): only 2-D convolutions with known shapes lower to float64`);
    const ints = (key: string, d: number[]) =>
      n.attrs[key]?.type === 'ints' ? (n.attrs[key].value as number[]) : d;
    const autoPad = n.attrs.auto_pad?.type === 'string' ? n.attrs.auto_pad.value : 'NOTSET';
    const [kh, kw] = ws.slice(2);
    const [sh, sw] = ints('strides', [1, 1]);
    const [dh, dw] = ints('dilations', [1, 1]);
    const [N, C, H, W] = xs;
    const [, M, OH, OW] = ys;
    const group = n.attrs.group?.type === 'int' ? n.attrs.group.value : 1;
    let pads = ints('pads', [0, 0, 0, 0]);
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const total = [
        Math.max(0, (OH - 1) * sh + (kh - 1) * dh + 1 - H),
        Math.max(0, (OW - 1) * sw + (kw - 1) * dw + 1 - W),
      ];
      const begin = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
      pads = [...begin, total[0] - begin[0], total[1] - begin[1]];
    } else if (autoPad === 'VALID') pads = [0, 0, 0, 0];
    let padded = x;
    if (pads.some((p) => p !== 0)) {
      const all = [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]];
      padded =
        opset >= 11
          ? emit('Pad', [x, constant('pads', int64(all))])
          : emit('Pad', [x], { pads: { type: 'ints', value: all } });
    }
    if (opset < 10 && (sh !== 1 || sw !== 1))
      throw new Error(`node "${n.name}" (Conv): strided Slice needs opset ≥ 10 (model has ${opset})`);
    const columns: string[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const starts = [i * dh, j * dw];
        const ends = [starts[0] + (OH - 1) * sh + 1, starts[1] + (OW - 1) * sw + 1];
        const slice =
          opset >= 10
            ? emit('Slice', [
                padded,
                constant('starts', int64(starts)),
                constant('ends', int64(ends)),
                constant('axes', int64([2, 3])),
                constant('steps', int64([sh, sw])),
              ])
            : emit('Slice', [padded], {
                starts: { type: 'ints', value: starts },
                ends: { type: 'ints', value: ends },
                axes: { type: 'ints', value: [2, 3] },
              });
        columns.push(reshape(slice, [N, C, 1, OH, OW]));
      }
    }
    const k = kh * kw;
    const stacked =
      columns.length === 1 ? columns[0] : emit('Concat', columns, { axis: { type: 'int', value: 2 } });
    // [N, C, K, P] → [N, g, (C/g)·K, P]: channel-major, kernel offset minor, as W's [M, C/g, kh, kw].
    const cols = reshape(stacked, [N, group, (C / group) * k, OH * OW]);
    const weights = reshape(w, [group, M / group, (C / group) * k]);
    const product = emit('MatMul', [weights, cols]);
    if (!bias) reshape(product, [N, M, OH, OW], n.outputs[0]);
    else emit('Add', [reshape(product, [N, M, OH, OW]), reshape(bias, [1, M, 1, 1])], {}, n.outputs[0]);
  };

  const lowerErf = (n: Node) => {
    const x =
      opset >= 11
        ? emit('Clip', [
            n.inputs[0],
            constant('lo', double([-ERF_CLIP], [])),
            constant('hi', double([ERF_CLIP], [])),
          ])
        : emit('Clip', [n.inputs[0]], {
            min: { type: 'float', value: -ERF_CLIP },
            max: { type: 'float', value: ERF_CLIP },
          });
    const y = emit('Mul', [x, x]);
    // Horner in y of Σ aₙ yⁿ, aₙ = 2ⁿ / (2n+1)!!
    const a: number[] = [1];
    for (let i = 1; i < ERF_TERMS; i++) a.push((a[i - 1] * 2) / (2 * i + 1));
    let acc = constant('erf_a', double([a[ERF_TERMS - 1]], []));
    for (let i = ERF_TERMS - 2; i >= 0; i--)
      acc = emit('Add', [emit('Mul', [acc, y]), constant('erf_a', double([a[i]], []))]);
    const gauss = emit('Exp', [emit('Neg', [y])]);
    const scaled = emit('Mul', [
      emit('Mul', [x, gauss]),
      constant('two_over_sqrt_pi', double([2 / Math.sqrt(Math.PI)], [])),
    ]);
    emit('Mul', [scaled, acc], {}, n.outputs[0]);
  };

  for (const n of g.nodes) {
    if (!n.domain && n.opType === 'Conv') lowerConv(n);
    else if (!n.domain && n.opType === 'Erf') lowerErf(n);
    else if (!n.domain && n.opType === 'GlobalAveragePool') {
      const rank = types.get(n.inputs[0])?.dims.length ?? 4;
      const axes = Array.from({ length: rank - 2 }, (_, i) => i + 2);
      if (opset >= 18) emit('ReduceMean', [n.inputs[0], constant('axes', int64(axes))], {}, n.outputs[0]);
      else emit('ReduceMean', [n.inputs[0]], { axes: { type: 'ints', value: axes } }, n.outputs[0]);
    } else {
      const attrs = { ...n.attrs };
      for (const [k, a] of Object.entries(attrs)) {
        if (n.opType === 'Cast' && k === 'to' && a.type === 'int' && a.value === FLOAT)
          attrs[k] = { type: 'int', value: DOUBLE };
        if (a.type === 'tensor') attrs[k] = { type: 'tensor', value: asDouble(a.value) };
      }
      nodes.push({ ...n, attrs });
    }
  }
  g.nodes = nodes;
  return m;
}
