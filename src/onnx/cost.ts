/**
 * The size of a run in multiply-accumulates of its dense products (Conv, ConvTranspose, Gemm,
 * MatMul), read from a static graph's shapes. Elementwise ops, pooling and normalisation are left
 * out: in a CNN they are a few percent of the arithmetic.
 */
import { attributeReader } from './attributes.js';
import { ancestors, topologicalOrder } from './graph.js';
import type { Node } from './model.js';
import type { StaticModel, TensorType } from './static.js';

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/**
 * Multiply-accumulates of one node, 0 for ops without a dense product or with unknown shapes.
 * Conv: |Y|·(C_in/group)·|kernel| = |Y|·|W|/C_out; ConvTranspose: |X|·|W|/C_in; Gemm and MatMul:
 * |Y|·K with K the reduced axis.
 */
export function nodeMultiplyAccumulates(node: Node, types: ReadonlyMap<string, TensorType>): number {
  const dims = (name: string | undefined) => (name ? types.get(name)?.dims : undefined);
  const y = dims(node.outputs[0]);
  const a = dims(node.inputs[0]);
  const w = dims(node.inputs[1]);
  if (!y || !a || !w) return 0;
  switch (node.opType) {
    case 'Conv':
      return product(y) * product(w.slice(1));
    case 'ConvTranspose':
      return product(a) * product(w.slice(1));
    case 'Gemm':
      return product(y) * (attributeReader(node).int('transA', 0) ? a[0] : a[1]);
    case 'MatMul':
      return product(y) * a[a.length - 1];
    default:
      return 0;
  }
}

/** Multiply-accumulates of the forward pass that computes `outputs` (only the nodes they need). */
export function forwardMultiplyAccumulates(s: StaticModel, outputs: readonly string[]): number {
  const needed = ancestors(s.model.graph, outputs);
  let total = 0;
  for (const n of s.model.graph.nodes) {
    if (n.outputs.some((o) => needed.has(o))) total += nodeMultiplyAccumulates(n, s.types);
  }
  return total;
}

/**
 * Multiply-accumulates of the backward pass from `objective` to `wrt`: each dense product on a
 * path between them costs its forward count again per input the gradient flows through
 * (dX = ConvTranspose(dY, W) is a convolution of the same size).
 */
export function backwardMultiplyAccumulates(
  s: StaticModel,
  wrt: readonly string[],
  objective: readonly string[],
): number {
  const toObjective = ancestors(s.model.graph, objective);
  const fromWrt = new Set(wrt);
  let total = 0;
  for (const n of topologicalOrder(s.model.graph)) {
    const flowing = n.inputs.filter((i) => i && fromWrt.has(i)).length;
    if (flowing === 0) continue;
    for (const o of n.outputs) if (o) fromWrt.add(o);
    if (n.outputs.some((o) => toObjective.has(o))) total += flowing * nodeMultiplyAccumulates(n, s.types);
  }
  return total;
}
