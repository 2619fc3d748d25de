/** The contract between the autodiff engine and one op's gradient rule. */
import type { AttributeReader } from '../onnx/attributes.js';
import type { Node } from '../onnx/model.js';
import type { Tensor } from '../onnx/tensor.js';
import type { Emitter } from './emitter.js';

/**
 * How ReLU-family ops pass gradients back:
 * - `vanilla`: the true derivative (dX = dY · f'(x)).
 * - `deconvnet` (Zeiler & Fergus 2014): ignore the forward mask and apply the activation to the
 *   backward signal (Relu/ReLU6: relu(dY); LeakyRelu: leaky_relu(dY)).
 * - `guided` (Springenberg et al. 2015): the true derivative, then keep only positive
 *   gradients (dX = dY · f'(x) · [dY > 0]).
 */
export type ReluRule = 'vanilla' | 'deconvnet' | 'guided';
export const RELU_RULES: readonly ReluRule[] = ['vanilla', 'deconvnet', 'guided'];

/** Attribute readers with defaults come from AttributeReader. */
export interface RuleContext extends AttributeReader {
  readonly node: Node;
  readonly emit: Emitter;
  readonly opset: number;
  readonly reluRule: ReluRule;
  /** Forward input / output tensor names. */
  x(i: number): string;
  y(i: number): string;
  hasInput(i: number): boolean;
  /** Incoming gradient of output i (zeros when nothing flows into that output). */
  dy(i: number): string;
  hasDy(i: number): boolean;
  /** Whether the gradient of input i is wanted (it lies between a `wrt` tensor and the objective). */
  needsDx(i: number): boolean;
  /** Give the gradient of input i; `grad` has the input's shape. */
  dx(i: number, grad: string): void;
  /** Give the gradient of input i computed at the (broadcast) shape `from`; the engine reduces it. */
  dxBroadcast(i: number, grad: string, from: number[]): void;
  /** Static shape of a forward tensor. */
  shape(name: string): number[];
  /** The value of a forward tensor when it is an initializer. */
  constant(name: string): Tensor | undefined;
  /** An error naming the op, the node and the reason. */
  unsupported(reason: string): Error;
}

export interface GradientRule {
  readonly opType: string;
  /**
   * Whether the backward pass depends on the ReLU rule (Relu, LeakyRelu, Clip): only such rules may
   * read `ctx.reluRule`, so a gradient reached through none of them is the same under every rule.
   */
  readonly followsReluRule?: boolean;
  emit(ctx: RuleContext): void;
}
