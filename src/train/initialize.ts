/**
 * A randomly re-initialised copy of a model: the baseline of network dissection ("the same
 * architecture with random weights", Bau et al. 2017, §3.2) and of weight-randomisation sanity
 * checks (Adebayo et al. 2018). Every Conv, ConvTranspose, Gemm and MatMul weight initializer is
 * redrawn He-normal (std √(2 / fan-in), He et al. 2015), their biases set to zero; other
 * initializers (normalisation, shapes) are kept.
 */

import { Random } from '../maths/random.js';
import { attributeReader } from '../onnx/attributes.js';
import { cloneModel, type Model } from '../onnx/model.js';

const WEIGHTED = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/** Fan-in of a weight of `op` with `dims` (Gemm: after its transB). */
function fanIn(op: string, dims: number[], transB: number): number {
  if (op === 'Conv') return dims.slice(1).reduce((a, b) => a * b, 1);
  if (op === 'ConvTranspose') return dims[0] * dims.slice(2).reduce((a, b) => a * b, 1);
  if (op === 'Gemm') return transB ? dims[1] : dims[0];
  return dims[dims.length - 2] ?? dims[0];
}

/**
 * @example
 * ```ts
 * const baseline = reinitialized(model, 1); // same graph and names, random weights
 * ```
 */
export function reinitialized(model: Model, seed: number): Model {
  const out = cloneModel(model);
  const rng = new Random(seed);
  const done = new Set<string>();
  for (const node of out.graph.nodes) {
    if (!WEIGHTED.has(node.opType)) continue;
    const [, w, b] = node.inputs;
    const weight = out.graph.initializers.get(w);
    if (!weight || weight.dtype !== 'float32' || done.has(w)) continue;
    const std = Math.sqrt(
      2 / Math.max(1, fanIn(node.opType, weight.dims, attributeReader(node).int('transB', 0))),
    );
    out.graph.initializers.set(w, { ...weight, data: rng.normals(weight.data.length, std) });
    done.add(w);
    const bias = b ? out.graph.initializers.get(b) : undefined;
    if (bias && bias.dtype === 'float32' && !done.has(b)) {
      out.graph.initializers.set(b, { ...bias, data: new Float32Array(bias.data.length) });
      done.add(b);
    }
  }
  if (done.size === 0)
    throw new Error(
      'the model has no Conv, ConvTranspose, Gemm or MatMul weight initializers to re-initialise',
    );
  return out;
}
