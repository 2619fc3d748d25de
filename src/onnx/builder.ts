/**
 * A small DSL that builds ONNX models in code: tests use it for hand-built models with chosen
 * weights, and training uses it to define networks.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from 'convlens';
 * const b = new GraphBuilder({ seed: 1 });
 * const x = b.input('image', [1, 1, 28, 28]);
 * const h = b.relu(b.conv(x, { in: 1, out: 8, kernel: 3, pads: 1 }));
 * const y = b.gemm(b.flatten(b.globalAveragePool(h)), { in: 8, out: 10 });
 * const model = b.build([y]);
 * ```
 */
import { Random } from '../maths/random.js';
import type { Attribute, Model, Node } from './model.js';
import { type DType, float32, int64, type Tensor } from './tensor.js';

/** A plain attribute value; numbers become ints unless the name is a float attribute (or pass an Attribute). */
export type AttrInput = number | string | number[] | string[] | Tensor | Attribute;

const FLOAT_ATTRS = new Set([
  'alpha',
  'beta',
  'epsilon',
  'momentum',
  'gamma',
  'lambd',
  'ratio',
  'bias',
  'min',
  'max',
]);

function isAttribute(v: AttrInput): v is Attribute {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && 'type' in v && 'value' in v && !('dims' in v)
  );
}

/** Convert a plain attribute value to a typed Attribute. */
export function toAttribute(name: string, v: AttrInput): Attribute {
  if (isAttribute(v)) return v;
  if (typeof v === 'number') {
    return FLOAT_ATTRS.has(name) || !Number.isInteger(v)
      ? { type: 'float', value: v }
      : { type: 'int', value: v };
  }
  if (typeof v === 'string') return { type: 'string', value: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return { type: 'strings', value: v as string[] };
    const nums = v as number[];
    return FLOAT_ATTRS.has(name) || nums.some((n) => !Number.isInteger(n))
      ? { type: 'floats', value: nums }
      : { type: 'ints', value: nums };
  }
  return { type: 'tensor', value: v as Tensor };
}

type Ints = number | number[];
const pair = (v: Ints | undefined, d: number): number[] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v;
const pads4 = (v: Ints | undefined): number[] => {
  if (v === undefined) return [0, 0, 0, 0];
  if (typeof v === 'number') return [v, v, v, v];
  return v.length === 2 ? [v[0], v[1], v[0], v[1]] : v;
};

export interface ConvOptions {
  in: number;
  out: number;
  kernel: Ints;
  stride?: Ints;
  pads?: Ints;
  dilation?: Ints;
  group?: number;
  bias?: boolean;
  autoPad?: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  weight?: Tensor;
  biasValue?: Tensor;
  name?: string;
}

export interface PoolOptions {
  kernel: Ints;
  stride?: Ints;
  pads?: Ints;
  dilation?: Ints;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

export class GraphBuilder {
  readonly opset: number;
  private readonly nodes: Node[] = [];
  private readonly inputs: { name: string; dtype: DType; shape: (number | string)[] }[] = [];
  private readonly initializers = new Map<string, Tensor>();
  private readonly rng: Random;
  private counter = 0;

  constructor(options: { opset?: number; seed?: number } = {}) {
    this.opset = options.opset ?? 13;
    this.rng = new Random(options.seed ?? 0);
  }

  /** A fresh tensor name with the given prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, shape: (number | string)[], dtype: DType = 'float32'): string {
    this.inputs.push({ name, dtype, shape });
    return name;
  }

  /** Add an initializer (a constant or trainable parameter). */
  param(name: string, t: Tensor): string {
    if (this.initializers.has(name)) throw new Error(`builder: initializer "${name}" already exists`);
    this.initializers.set(name, t);
    return name;
  }

  /** A float32 vector initializer of `size` samples uniform in [lo, hi). */
  uniformParam(prefix: string, size: number, lo: number, hi: number): string {
    const r = this.rng;
    return this.param(this.fresh(prefix), float32(Array.from({ length: size }, () => r.uniform(lo, hi))));
  }

  /** A float32 initializer of normal samples with the given standard deviation. */
  randn(prefix: string, dims: number[], std: number): string {
    const n = dims.reduce((a, b) => a * b, 1);
    return this.param(this.fresh(prefix), float32(this.rng.normals(n, std), dims));
  }

  /** Append a node and return its output names. */
  op(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrInput | undefined> = {},
    outputs = 1,
  ): string[] {
    const name = this.fresh(opType.toLowerCase());
    const outs = Array.from({ length: outputs }, (_, i) => (outputs === 1 ? name : `${name}_out${i}`));
    const typed: Record<string, Attribute> = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) typed[k] = toAttribute(k, v);
    this.nodes.push({ name, opType, domain: '', inputs, outputs: outs, attrs: typed });
    return outs;
  }

  /** Append a single-output node. */
  op1(opType: string, inputs: string[], attrs: Record<string, AttrInput | undefined> = {}): string {
    return this.op(opType, inputs, attrs)[0];
  }

  conv(x: string, o: ConvOptions): string {
    const k = pair(o.kernel, 1);
    const group = o.group ?? 1;
    const fanIn = (o.in / group) * k[0] * k[1];
    const w = o.weight
      ? this.param(this.fresh(`${o.name ?? 'conv'}_w`), o.weight)
      : this.randn(`${o.name ?? 'conv'}_w`, [o.out, o.in / group, k[0], k[1]], Math.sqrt(2 / fanIn));
    const inputs = [x, w];
    if (o.biasValue) inputs.push(this.param(this.fresh(`${o.name ?? 'conv'}_b`), o.biasValue));
    else if (o.bias ?? true) inputs.push(this.randn(`${o.name ?? 'conv'}_b`, [o.out], 0.1));
    return this.op1('Conv', inputs, {
      kernel_shape: k,
      strides: pair(o.stride, 1),
      pads: o.autoPad && o.autoPad !== 'NOTSET' ? undefined : pads4(o.pads),
      dilations: pair(o.dilation, 1),
      group,
      auto_pad: o.autoPad,
    });
  }

  convTranspose(x: string, o: ConvOptions & { outputPadding?: Ints }): string {
    const k = pair(o.kernel, 1);
    const group = o.group ?? 1;
    const w = o.weight
      ? this.param(this.fresh('convt_w'), o.weight)
      : this.randn(
          'convt_w',
          [o.in, o.out / group, k[0], k[1]],
          Math.sqrt(1 / ((o.in / group) * k[0] * k[1])),
        );
    const inputs = [x, w];
    if (o.bias ?? true) inputs.push(this.randn('convt_b', [o.out], 0.1));
    return this.op1('ConvTranspose', inputs, {
      kernel_shape: k,
      strides: pair(o.stride, 1),
      pads: pads4(o.pads),
      dilations: pair(o.dilation, 1),
      output_padding: o.outputPadding === undefined ? undefined : pair(o.outputPadding, 0),
      group,
    });
  }

  /** Inference-mode BatchNormalization with random (or given) statistics. */
  batchNorm(x: string, channels: number, epsilon = 1e-5): string {
    const scale = this.uniformParam('bn_scale', channels, 0.5, 1.5);
    const bias = this.uniformParam('bn_bias', channels, -0.2, 0.2);
    const mean = this.uniformParam('bn_mean', channels, -0.2, 0.2);
    const v = this.uniformParam('bn_var', channels, 0.5, 2);
    return this.op1('BatchNormalization', [x, scale, bias, mean, v], { epsilon });
  }

  relu(x: string): string {
    return this.op1('Relu', [x]);
  }

  /** ReLU6 as Clip(x, 0, 6) (min/max as inputs from opset 11 on). */
  relu6(x: string): string {
    if (this.opset < 11) return this.op1('Clip', [x], { min: 0, max: 6 });
    const lo = this.param(this.fresh('clip_min'), float32([0], []));
    const hi = this.param(this.fresh('clip_max'), float32([6], []));
    return this.op1('Clip', [x, lo, hi]);
  }

  maxPool(x: string, o: PoolOptions): string {
    return this.op1('MaxPool', [x], {
      kernel_shape: pair(o.kernel, 1),
      strides: pair(o.stride, 1),
      pads: pads4(o.pads),
      dilations: o.dilation === undefined ? undefined : pair(o.dilation, 1),
      ceil_mode: o.ceilMode ? 1 : undefined,
    });
  }

  averagePool(x: string, o: PoolOptions): string {
    return this.op1('AveragePool', [x], {
      kernel_shape: pair(o.kernel, 1),
      strides: pair(o.stride, 1),
      pads: pads4(o.pads),
      ceil_mode: o.ceilMode ? 1 : undefined,
      count_include_pad: o.countIncludePad ? 1 : undefined,
    });
  }

  globalAveragePool(x: string): string {
    return this.op1('GlobalAveragePool', [x]);
  }

  flatten(x: string, axis = 1): string {
    return this.op1('Flatten', [x], { axis });
  }

  /** Fully connected layer: Gemm(x, W, b) with W stored [out, in] and transB = 1, as PyTorch exports it. */
  gemm(x: string, o: { in: number; out: number; bias?: boolean; weight?: Tensor; name?: string }): string {
    const w = o.weight
      ? this.param(this.fresh(`${o.name ?? 'fc'}_w`), o.weight)
      : this.randn(`${o.name ?? 'fc'}_w`, [o.out, o.in], Math.sqrt(1 / o.in));
    const inputs = [x, w];
    if (o.bias ?? true) inputs.push(this.randn(`${o.name ?? 'fc'}_b`, [o.out], 0.1));
    return this.op1('Gemm', inputs, { transB: 1 });
  }

  add(a: string, b: string): string {
    return this.op1('Add', [a, b]);
  }

  mul(a: string, b: string): string {
    return this.op1('Mul', [a, b]);
  }

  concat(xs: string[], axis = 1): string {
    return this.op1('Concat', xs, { axis });
  }

  /**
   * Flatten as PyTorch exports `x.view(x.size(0), -1)`: Shape → Gather → Unsqueeze → Concat →
   * Reshape, a dynamic chain that makeStatic folds.
   */
  torchFlatten(x: string): string {
    const shape = this.op1('Shape', [x]);
    const batch = this.op1('Gather', [shape, this.param(this.fresh('zero'), int64([0], []))], { axis: 0 });
    const unsq =
      this.opset >= 13
        ? this.op1('Unsqueeze', [batch, this.param(this.fresh('axes'), int64([0]))])
        : this.op1('Unsqueeze', [batch], { axes: [0] });
    const target = this.op1('Concat', [unsq, this.param(this.fresh('minus1'), int64([-1]))], { axis: 0 });
    return this.op1('Reshape', [x, target]);
  }

  /** LayerNormalization over the last axis (opset ≥ 17), with scale 1 ± noise and small bias. */
  layerNorm(x: string, size: number, epsilon = 1e-6): string {
    const scale = this.uniformParam('ln_scale', size, 0.8, 1.2);
    const bias = this.uniformParam('ln_bias', size, -0.1, 0.1);
    return this.op1('LayerNormalization', [x, scale, bias], { axis: -1, epsilon });
  }

  /** GELU as PyTorch exports it before opset 20: x · ½ · (1 + erf(x / √2)). */
  gelu(x: string): string {
    const c = (v: number) => this.param(this.fresh('c'), float32([v], []));
    const erf = this.op1('Erf', [this.op1('Div', [x, c(Math.SQRT2)])]);
    return this.op1('Mul', [this.op1('Mul', [x, this.op1('Add', [erf, c(1)])]), c(0.5)]);
  }

  /** Linear layer on the last axis: MatMul(x, W[in, out]) + b. */
  linear(x: string, inSize: number, outSize: number): string {
    const w = this.randn('lin_w', [inSize, outSize], Math.sqrt(1 / inSize));
    const b = this.randn('lin_b', [outSize], 0.05);
    return this.op1('Add', [this.op1('MatMul', [x, w]), b]);
  }

  transpose(x: string, perm: number[]): string {
    return this.op1('Transpose', [x], { perm });
  }

  /** Rename a tensor (and the node producing it) so users can address it, e.g. 'conv1', 'logits'. */
  named(x: string, name: string): string {
    if (this.nodes.some((n) => n.outputs.includes(name)) || this.initializers.has(name))
      throw new Error(`builder: tensor "${name}" already exists`);
    for (const n of this.nodes) {
      n.inputs = n.inputs.map((i) => (i === x ? name : i));
      if (n.outputs.includes(x)) {
        n.outputs = n.outputs.map((o) => (o === x ? name : o));
        n.name = name;
      }
    }
    return name;
  }

  /** Build the model with the given graph outputs (types and shapes are left for inference). */
  build(outputs: string[], metadata: Record<string, string> = {}): Model {
    return {
      irVersion: this.opset >= 21 ? 10 : this.opset >= 15 ? 8 : 7,
      opsets: { '': this.opset },
      producerName: 'convlens',
      producerVersion: '0.1.0',
      docString: '',
      metadata: { ...metadata },
      graph: {
        name: 'convlens',
        nodes: [...this.nodes],
        inputs: this.inputs.map((i) => ({ ...i, shape: [...i.shape] })),
        outputs: outputs.map((name) => ({ name, dtype: 'float32' as DType })),
        initializers: new Map(this.initializers),
        valueInfo: new Map(),
      },
      extra: {},
    };
  }
}
