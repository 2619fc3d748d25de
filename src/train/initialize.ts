/**
 * A randomly re-initialised copy of a model: the baseline of network dissection ("the same
 * architecture with random weights", Bau et al. 2017, §3.2) and of weight-randomisation sanity
 * checks (Adebayo et al. 2018). Every Conv, ConvTranspose, Gemm and MatMul weight initializer is
 * redrawn He-normal (std √(2 / fan-in), He et al. 2015), their biases set to zero; other
 * initializers (normalisation, shapes) are kept. `only` restricts the redraw to named layers
 * (the cascading and independent randomisation of Adebayo et al. 2018, §3.1).
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

/** A node whose weight initializer `reinitialized` redraws: its name (or first output), op and weight. */
export interface WeightedLayer {
  name: string;
  opType: string;
  weight: string;
}

const layerName = (node: { name?: string; outputs: string[] }) => node.name || node.outputs[0];

/**
 * The Conv, ConvTranspose, Gemm and MatMul nodes with float32 weight initializers, in graph
 * (topological) order: the layers a weight-randomisation check walks, output side first.
 *
 * @example
 * ```ts
 * weightedLayers(model).map((l) => l.name); // ['conv1', 'conv2', …, 'fc']
 * ```
 */
export function weightedLayers(model: Model): WeightedLayer[] {
  const out: WeightedLayer[] = [];
  for (const node of model.graph.nodes) {
    if (!WEIGHTED.has(node.opType)) continue;
    const weight = model.graph.initializers.get(node.inputs[1]);
    if (weight && weight.dtype === 'float32')
      out.push({ name: layerName(node), opType: node.opType, weight: node.inputs[1] });
  }
  return out;
}

/**
 * @example
 * ```ts
 * const baseline = reinitialized(model, 1); // same graph and names, random weights
 * const topOnly = reinitialized(model, 1, ['fc']); // only the layer named fc redrawn
 * ```
 */
export function reinitialized(model: Model, seed: number, only?: readonly string[]): Model {
  const out = cloneModel(model);
  const rng = new Random(seed);
  const done = new Set<string>();
  if (only) {
    const names = new Set(weightedLayers(model).map((l) => l.name));
    const unknown = only.filter((n) => !names.has(n));
    if (unknown.length > 0)
      throw new Error(
        `no weighted layer named ${unknown.map((n) => `"${n}"`).join(', ')}; weighted layers: ${[...names].join(', ')}`,
      );
  }
  let position = 0;
  for (const node of out.graph.nodes) {
    if (!WEIGHTED.has(node.opType)) continue;
    position++;
    if (only && !only.includes(layerName(node))) continue;
    const [, w, b] = node.inputs;
    const weight = out.graph.initializers.get(w);
    if (!weight || weight.dtype !== 'float32' || done.has(w)) continue;
    const std = Math.sqrt(
      2 / Math.max(1, fanIn(node.opType, weight.dims, attributeReader(node).int('transB', 0))),
    );
    // With `only`, a layer's draw depends on the seed and its position alone, so the stages of a
    // cascading randomisation share each layer's random weights.
    const draw = only ? new Random(seed * 7919 + position) : rng;
    out.graph.initializers.set(w, { ...weight, data: draw.normals(weight.data.length, std) });
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
