/**
 * Writes backward nodes. Every helper emits standard ONNX ops in the form the model's opset
 * expects (e.g. ReduceSum axes as an attribute before opset 13, as an input from 13 on), and all
 * shapes are static, so reshapes and expands take constant shapes.
 */
import { type AttrInput, toAttribute } from '../onnx/builder.js';
import type { Attribute, Node } from '../onnx/model.js';
import { float32, int64, type Tensor } from '../onnx/tensor.js';

/** INT64_MIN as a Slice bound for negative steps ("through the start"); exact as a double. */
const INT64_MIN = -(2 ** 63);

export class Emitter {
  readonly nodes: Node[] = [];
  readonly initializers = new Map<string, Tensor>();
  private readonly cache = new Map<string, string>();
  private counter = 0;

  constructor(
    readonly opset: number,
    private readonly prefix = 'grad',
  ) {}

  fresh(hint: string): string {
    return `${this.prefix}/${hint}_${this.counter++}`;
  }

  /** Emit a node; returns its output names. */
  opN(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrInput | undefined> = {},
    outputs = 1,
    hint = opType,
  ): string[] {
    const name = this.fresh(hint);
    const outs = Array.from({ length: outputs }, (_, i) => (outputs === 1 ? name : `${name}:${i}`));
    const typed: Record<string, Attribute> = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) typed[k] = toAttribute(k, v);
    this.nodes.push({ name, opType, domain: '', inputs, outputs: outs, attrs: typed });
    return outs;
  }

  op(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrInput | undefined> = {},
    hint = opType,
  ): string {
    return this.opN(opType, inputs, attrs, 1, hint)[0];
  }

  /** An initializer, deduplicated by content. */
  constant(t: Tensor, hint = 'const'): string {
    const key = `${t.dtype}|${t.dims}|${t.data.length <= 64 ? Array.from(t.data as ArrayLike<number | bigint>).join(',') : `#${this.counter}`}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const name = this.fresh(hint);
    this.initializers.set(name, t);
    this.cache.set(key, name);
    return name;
  }

  scalar(v: number): string {
    return this.constant(float32([v], []), 'scalar');
  }

  ints(values: number[]): string {
    return this.constant(int64(values), 'ints');
  }

  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }
  neg(a: string): string {
    return this.op('Neg', [a]);
  }
  /** where(cond, a, b) */
  where(cond: string, a: string, b: string): string {
    return this.op('Where', [cond, a, b]);
  }
  /** Float 0/1 from a boolean tensor. */
  toFloat(b: string): string {
    return this.op('Cast', [b], { to: 1 });
  }

  reshape(x: string, dims: number[]): string {
    return this.op('Reshape', [x, this.ints(dims)]);
  }

  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x], { perm });
  }

  expand(x: string, dims: number[]): string {
    return this.op('Expand', [x, this.ints(dims)]);
  }

  zeros(dims: number[]): string {
    return this.op('ConstantOfShape', [this.ints(dims)], { value: float32([0], [1]) });
  }

  private reduce(op: string, inputAxesSince: number, x: string, axes: number[], keepdims: boolean): string {
    if (axes.length === 0) return x;
    const keep = keepdims ? 1 : 0;
    return this.opset >= inputAxesSince
      ? this.op(op, [x, this.ints(axes)], { keepdims: keep })
      : this.op(op, [x], { axes, keepdims: keep });
  }
  reduceSum(x: string, axes: number[], keepdims = true): string {
    return this.reduce('ReduceSum', 13, x, axes, keepdims);
  }
  reduceMean(x: string, axes: number[], keepdims = true): string {
    return this.reduce('ReduceMean', 18, x, axes, keepdims);
  }
  reduceMax(x: string, axes: number[], keepdims = true): string {
    return this.reduce('ReduceMax', 18, x, axes, keepdims);
  }
  reduceMin(x: string, axes: number[], keepdims = true): string {
    return this.reduce('ReduceMin', 18, x, axes, keepdims);
  }

  /** Slice with static bounds (opset ≥ 10 form). */
  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const inputs = [x, this.ints(starts), this.ints(ends), this.ints(axes)];
    if (steps) inputs.push(this.ints(steps));
    return this.op('Slice', inputs);
  }

  /** Reverse the given axes. */
  flip(x: string, axes: number[]): string {
    return this.slice(
      x,
      axes.map(() => -1),
      axes.map(() => INT64_MIN),
      axes,
      axes.map(() => -1),
    );
  }

  /** Constant-mode Pad; `pads` is [begin..., end...] over all axes. */
  pad(x: string, pads: number[], value = 0): string {
    if (pads.every((p) => p === 0)) return x;
    if (this.opset >= 11)
      return this.op('Pad', [x, this.ints(pads), this.scalar(value)], { mode: 'constant' });
    return this.op('Pad', [x], { pads, value, mode: 'constant' });
  }

  concat(xs: string[], axis: number): string {
    return xs.length === 1 ? xs[0] : this.op('Concat', xs, { axis });
  }

  /** Sum of gradient contributions: one Sum node for many. */
  sum(xs: string[]): string {
    return xs.length === 1 ? xs[0] : this.op('Sum', xs);
  }

  /**
   * Reduce a gradient computed at a broadcast shape back to the shape of the operand
   * (numpy broadcasting: sum over leading axes and over axes the operand had as 1).
   */
  unbroadcast(grad: string, from: number[], to: number[]): string {
    if (from.length === to.length && from.every((d, i) => d === to[i])) return grad;
    const lead = from.length - to.length;
    const axes: number[] = [];
    for (let i = 0; i < from.length; i++) {
      const t = i < lead ? 1 : to[i - lead];
      if (i < lead || (t === 1 && from[i] !== 1)) axes.push(i);
      else if (t !== from[i])
        throw new Error(`cannot reduce gradient of shape [${from}] to operand shape [${to}]`);
    }
    const reduced = this.reduceSum(grad, axes, true);
    return this.reshape(reduced, to);
  }
}
