/**
 * Find a CAM-ready head: feature map → global average pooling → (Flatten/Reshape/Squeeze) →
 * linear layer → logits, and read the linear layer's weights w_ck (Zhou et al. 2016, §2:
 * M_c(x, y) = Σ_k w_k^c f_k(x, y)).
 */
import { consumers } from '../../onnx/graph.js';
import type { Graph, Node } from '../../onnx/model.js';
import { toNumbers } from '../../onnx/tensor.js';

export interface GapLinearHead {
  classes: number;
  channels: number;
  /** w[c·channels + k]: the weight of channel k for class c (Gemm's alpha folded in). */
  weights: Float32Array;
  /** The nodes from the pooling to the logits. */
  path: string[];
}

const PASS_THROUGH = new Set(['Flatten', 'Reshape', 'Squeeze', 'Identity', 'Dropout']);

/** The GAP → linear head between `layer` and `logits`, or the reason there is none. */
export function findGapLinearHead(
  graph: Graph,
  layer: string,
  logits: string,
): GapLinearHead | { reason: string } {
  const readers = consumers(graph);
  const next = (t: string): Node[] => readers.get(t) ?? [];
  const path: string[] = [];
  const pool = next(layer).find((n) => isGlobalAverage(graph, n));
  if (!pool) return { reason: `no GlobalAveragePool (or ReduceMean over H, W) reads "${layer}"` };
  path.push(pool.name);
  let t = pool.outputs[0];
  for (let guard = 0; guard < 8; guard++) {
    const n = next(t).find((m) => PASS_THROUGH.has(m.opType));
    if (!n) break;
    path.push(n.name);
    t = n.outputs[0];
  }
  const linear = next(t).find((n) => n.opType === 'Gemm' || n.opType === 'MatMul');
  if (!linear) return { reason: `the pooled features "${t}" do not feed a Gemm or MatMul` };
  path.push(linear.name);
  const wName = linear.inputs[1];
  const w = graph.initializers.get(wName);
  if (w === undefined || w.dims.length !== 2)
    return { reason: `the linear layer "${linear.name}" has no constant 2-D weight` };
  const attr = (k: string, d: number) => {
    const a = linear.attrs[k];
    return a && (a.type === 'int' || a.type === 'float') ? a.value : d;
  };
  if (linear.opType === 'Gemm' && attr('transA', 0) !== 0) return { reason: `"${linear.name}" uses transA` };
  const transB = linear.opType === 'Gemm' ? attr('transB', 0) : 0;
  const alpha = linear.opType === 'Gemm' ? attr('alpha', 1) : 1;
  const values = toNumbers(w);
  const [rows, cols] = w.dims;
  const classes = transB ? rows : cols;
  const channels = transB ? cols : rows;
  const weights = new Float32Array(classes * channels);
  for (let c = 0; c < classes; c++)
    for (let k = 0; k < channels; k++)
      weights[c * channels + k] = alpha * (transB ? values[c * cols + k] : values[k * cols + c]);
  t = linear.outputs[0];
  for (let guard = 0; guard < 4 && t !== logits; guard++) {
    const n = next(t).find((m) => m.opType === 'Add' || m.opType === 'Identity');
    if (!n) break;
    path.push(n.name);
    t = n.outputs[0];
  }
  if (t !== logits)
    return { reason: `the linear layer "${linear.name}" does not produce "${logits}" directly` };
  return { classes, channels, weights, path };
}

function isGlobalAverage(graph: Graph, n: Node): boolean {
  if (n.opType === 'GlobalAveragePool') return true;
  if (n.opType !== 'ReduceMean') return false;
  // Axes are an attribute before opset 18 and an input from 18 on.
  const a = n.attrs.axes;
  const fromInput = n.inputs[1] ? graph.initializers.get(n.inputs[1]) : undefined;
  const axes = a?.type === 'ints' ? a.value : fromInput ? toNumbers(fromInput) : [];
  const set = new Set(axes.map((x) => (x < 0 ? x + 4 : x)));
  return set.size === 2 && set.has(2) && set.has(3);
}
