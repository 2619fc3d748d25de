/** Convolution weights as a user reads them: which Conv layers there are and each one's filters. */
import { nearestNames, topologicalOrder } from '../../onnx/graph.js';
import type { Graph } from '../../onnx/model.js';
import type { Tensor } from '../../onnx/tensor.js';

export interface ConvLayer {
  /** The Conv node's name. */
  node: string;
  /** Its output tensor. */
  output: string;
  /** Its weight initializer: [out, in / group, kh, kw]. */
  weight: string;
  dims: number[];
  group: number;
}

/** Every Conv whose weights are stored in the model, in topological order. */
export function convLayers(graph: Graph): ConvLayer[] {
  return topologicalOrder(graph)
    .filter((n) => n.opType === 'Conv' && graph.initializers.has(n.inputs[1]))
    .map((n) => {
      const w = graph.initializers.get(n.inputs[1])!;
      const g = n.attrs.group;
      return {
        node: n.name,
        output: n.outputs[0],
        weight: n.inputs[1],
        dims: w.dims,
        group: g?.type === 'int' ? g.value : 1,
      };
    })
    .filter((l) => l.dims.length === 4);
}

/**
 * The Conv layer named by its node, output tensor or weight (default: the first one).
 *
 * @example
 * ```ts
 * const first = findConvLayer(model.graph); // { node: 'conv1', dims: [16, 3, 3, 3], ... }
 * ```
 */
export function findConvLayer(graph: Graph, name?: string): ConvLayer {
  const layers = convLayers(graph);
  if (layers.length === 0) throw new Error('the model has no Conv layer with stored 2-D weights');
  if (name === undefined) return layers[0];
  const hit = layers.find((l) => l.node === name || l.output === name || l.weight === name);
  if (hit) return hit;
  const names = layers.map((l) => l.output);
  throw new Error(
    `"${name}" is not a Conv layer (node, output or weight name); Conv layers: ${
      names.length <= 12 ? names.join(', ') : `${nearestNames(name, names, 8).join(', ')}, …`
    }`,
  );
}

/** The layer's weights as float32. */
export function filterWeights(graph: Graph, layer: ConvLayer): Tensor & { data: Float32Array } {
  const w = graph.initializers.get(layer.weight)!;
  if (w.dtype !== 'float32' && w.dtype !== 'float64')
    throw new Error(`weights "${layer.weight}" are ${w.dtype}; filters are shown for float weights`);
  return { dtype: 'float32', dims: w.dims, data: Float32Array.from(w.data as ArrayLike<number>) };
}
