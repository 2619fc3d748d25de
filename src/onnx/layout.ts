/**
 * Tensor layouts. ONNX convolutions and pools read and write NCHW, but Keras/TensorFlow exports
 * (tf2onnx) take channels-last images [N, H, W, C] and Transpose them inside, and models such as
 * ConvNeXt permute maps to NHWC around LayerNorm. Two questions are answered here: which layout
 * the image input takes, and where the channel and spatial axes of every 4-D tensor lie, traced
 * from the ops that fix them (Conv, pools, normalisations) through the ops that keep or permute them.
 */
import { topologicalOrder } from './graph.js';
import { cloneModel, type Model, type Node } from './model.js';
import type { Tensor } from './tensor.js';

export const LAYOUTS = ['nchw', 'nhwc'] as const;
export type Layout = (typeof LAYOUTS)[number];

/** Where a 4-D tensor keeps its channels and its two spatial axes. */
export interface AxisRoles {
  channel: number;
  spatial: [number, number];
}

const NCHW: AxisRoles = { channel: 1, spatial: [2, 3] };
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** Throws unless `text` names a layout. */
export function parseLayout(text: string, what = 'layout'): Layout {
  if (!(LAYOUTS as readonly string[]).includes(text))
    throw new Error(`${what} "${text}" is not one of ${LAYOUTS.join(', ')}`);
  return text as Layout;
}

const isChannels = (d: unknown) => d === 1 || d === 3;
const samePerm = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The layout of the model's first input, when the graph tells: a leading Transpose to NCHW
 * (tf2onnx) or a Conv reading the input directly decide; otherwise the input's dims do (channels,
 * 1 or 3, last and not second: NHWC; second and not last: NCHW). Undefined for inputs that are not
 * 4-D or stay ambiguous.
 *
 * @example
 * inputLayout(readModelFile('keras_mobilenet.onnx')); // 'nhwc'
 */
export function inputLayout(model: Model): Layout | undefined {
  const input = model.graph.inputs[0];
  const dims = input?.shape;
  if (dims?.length !== 4) return undefined;
  const readers = model.graph.nodes.filter((n) => n.inputs.includes(input.name));
  for (const n of readers) {
    if (n.opType === 'Transpose' && n.attrs.perm?.type === 'ints' && samePerm(n.attrs.perm.value, TO_NCHW))
      return 'nhwc';
    if (n.opType === 'Conv' && n.inputs[0] === input.name) return 'nchw';
  }
  if (isChannels(dims[3]) && !isChannels(dims[1])) return 'nhwc';
  if (isChannels(dims[1]) && !isChannels(dims[3])) return 'nchw';
  return undefined;
}

/** Height, width and channels of a 4-D input shape in a layout. */
export function imageAxes(layout: Layout): { height: number; width: number; channels: number } {
  return layout === 'nhwc' ? { height: 1, width: 2, channels: 3 } : { height: 2, width: 3, channels: 1 };
}

/**
 * A copy of an NHWC-input model that takes NCHW, so every method works in NCHW. When the input's
 * only reader is tf2onnx's Transpose to NCHW, that Transpose becomes an Identity of the new input
 * (every other tensor keeps its name, shape and value); otherwise the new input (same name) is
 * transposed to NHWC and fed to what read the old one.
 *
 * @example
 * const m = new ConvlensModel(channelsFirst(readModelFile('keras.onnx')), nodeBackend());
 */
export function channelsFirst(model: Model): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const input = g.inputs[0];
  const dims = input.shape;
  if (dims?.length !== 4)
    throw new Error(
      `input "${input.name}" is not 4-D ([${dims?.join(', ') ?? '?'}]); no NHWC layout to adapt`,
    );
  input.shape = [dims[0], dims[3], dims[1], dims[2]];
  const readers = g.nodes.filter((n) => n.inputs.includes(input.name));
  const [only] = readers;
  const isOutput = g.outputs.some((o) => o.name === input.name);
  if (
    readers.length === 1 &&
    !isOutput &&
    only.opType === 'Transpose' &&
    only.attrs.perm?.type === 'ints' &&
    samePerm(only.attrs.perm.value, TO_NCHW)
  ) {
    only.opType = 'Identity';
    only.attrs = {};
    return m;
  }
  const inner = `${input.name}/nhwc`;
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === input.name ? inner : i));
  for (const o of g.outputs) if (o.name === input.name) o.name = inner;
  g.nodes.unshift({
    name: `${input.name}/to_nhwc`,
    opType: 'Transpose',
    domain: '',
    inputs: [input.name],
    outputs: [inner],
    attrs: { perm: { type: 'ints', value: TO_NHWC } },
  });
  return m;
}

/** The model taking NCHW: itself, or adapted by channelsFirst when its input `layout` is 'nhwc'. */
export function withNchwInput(model: Model, layout: Layout | undefined): Model {
  return layout === 'nhwc' ? channelsFirst(model) : model;
}

/** A 4-D tensor's data moved between NCHW and NHWC (`to` is the layout of the result). */
export function toLayout(t: Tensor, to: Layout): Tensor {
  if (t.dims.length !== 4) throw new Error(`toLayout: expected a 4-D tensor, got [${t.dims.join(', ')}]`);
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length);
  if (to === 'nhwc') {
    const [n, c, h, w] = t.dims;
    for (let b = 0; b < n; b++)
      for (let k = 0; k < c; k++)
        for (let i = 0; i < h * w; i++) out[(b * h * w + i) * c + k] = src[(b * c + k) * h * w + i];
    return { dtype: t.dtype, dims: [n, h, w, c], data: out };
  }
  const [n, h, w, c] = t.dims;
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h * w; i++)
      for (let k = 0; k < c; k++) out[(b * c + k) * h * w + i] = src[(b * h * w + i) * c + k];
  return { dtype: t.dtype, dims: [n, c, h, w], data: out };
}

/** Ops whose output is NCHW whatever they read (they define the layout). */
const NCHW_OPS = new Set([
  'Conv',
  'ConvTranspose',
  'MaxPool',
  'AveragePool',
  'LpPool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'GlobalLpPool',
  'BatchNormalization',
  'InstanceNormalization',
  'LRN',
  'MaxUnpool',
  'DepthToSpace',
  'SpaceToDepth',
]);

/** Ops whose output keeps the axes of their 4-D input(s): element-wise, padding, resizing, joins. */
const KEEP_OPS = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Elu',
  'Selu',
  'Celu',
  'Clip',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'Softplus',
  'Softsign',
  'Mish',
  'Gelu',
  'Erf',
  'Abs',
  'Neg',
  'Exp',
  'Log',
  'Sqrt',
  'Reciprocal',
  'Pow',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Max',
  'Min',
  'Sum',
  'Mean',
  'Where',
  'Identity',
  'Dropout',
  'Cast',
  'Pad',
  'Resize',
  'Upsample',
  'Slice',
  'Concat',
  'Split',
  'LayerNormalization',
]);

/**
 * Axis roles of every 4-D tensor whose layout the graph fixes: outputs of Conv, pools and
 * normalisations are NCHW; element-wise ops, Pad, Resize, Slice, Concat, Split and LayerNorm keep
 * their input's axes; Transpose permutes them; MatMul by a matrix keeps them when it mixes the
 * channel axis (the last one, as in a channels-last MLP); a Reduce with keepdims keeps them.
 * Reshape, Flatten and anything else end the trace.
 */
export function axisRoles(
  model: Model,
  rankOf: (tensor: string) => number | undefined,
): Map<string, AxisRoles> {
  const roles = new Map<string, AxisRoles>();
  const from = (n: Node) => n.inputs.map((i) => roles.get(i)).find((r) => r !== undefined);
  for (const n of topologicalOrder(model.graph)) {
    if (n.domain && n.domain !== 'ai.onnx') continue;
    let r: AxisRoles | undefined;
    if (NCHW_OPS.has(n.opType)) r = NCHW;
    else if (KEEP_OPS.has(n.opType)) r = from(n);
    else if (n.opType === 'Transpose') {
      const src = roles.get(n.inputs[0]);
      const perm = n.attrs.perm?.type === 'ints' ? n.attrs.perm.value : [3, 2, 1, 0];
      if (src)
        r = {
          channel: perm.indexOf(src.channel),
          spatial: [perm.indexOf(src.spatial[0]), perm.indexOf(src.spatial[1])],
        };
    } else if (n.opType === 'MatMul') {
      const src = roles.get(n.inputs[0]);
      if (src && src.channel === 3 && rankOf(n.inputs[1]) === 2) r = src;
    } else if (n.opType.startsWith('Reduce')) {
      const keep = n.attrs.keepdims?.type !== 'int' || n.attrs.keepdims.value !== 0;
      if (keep) r = roles.get(n.inputs[0]);
    }
    if (!r) continue;
    for (const o of n.outputs) if (o && rankOf(o) === 4) roles.set(o, r);
  }
  return roles;
}
