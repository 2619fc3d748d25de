/**
 * Make a graph static for one input size: every intermediate shape becomes known and the
 * Shape → Gather → Unsqueeze → Concat chains that exporters emit around Flatten/Reshape fold into
 * constants, so the gradient graph built from it has fixed shapes. Shapes come from one
 * onnxruntime run with every node output exposed (the run also yields the folded values).
 */

import { Random } from '../maths/random.js';
import type { InferenceBackend } from '../runtime/backend.js';
import { consumers, producers, topologicalOrder } from './graph.js';
import { cloneModel, encodeModel, type Model, type Node, type ValueInfo } from './model.js';
import { type DType, elementCount, float32, int64, type Tensor, zeros } from './tensor.js';

export interface TensorType {
  dtype: DType;
  dims: number[];
}

export interface StaticModel {
  /** The model with Constant nodes turned into initializers, shape chains folded, inputs fixed. */
  model: Model;
  /** Type and shape of every tensor (inputs, initializers, node outputs). */
  types: Map<string, TensorType>;
  /** The node outputs that were folded into initializers. */
  folded: string[];
}

/** Ops whose outputs depend on the shape of their inputs only, never on their values. */
const SHAPE_OPS = new Set(['Shape', 'Size']);
/** Ops never folded even when their inputs are constant. */
const UNFOLDABLE = new Set([
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'Multinomial',
  'Bernoulli',
]);

/** Turn Constant nodes into initializers (in place). */
export function constantsToInitializers(model: Model): void {
  const g = model.graph;
  g.nodes = g.nodes.filter((n) => {
    if (n.opType !== 'Constant' || n.domain) return true;
    const [key, a] = Object.entries(n.attrs)[0] ?? [];
    let t: Tensor;
    if (key === 'value' && a.type === 'tensor') t = a.value;
    else if (key === 'value_float' && a.type === 'float') t = float32([a.value], []);
    else if (key === 'value_floats' && a.type === 'floats') t = float32(a.value);
    else if (key === 'value_int' && a.type === 'int') t = int64([a.value], []);
    else if (key === 'value_ints' && a.type === 'ints') t = int64(a.value);
    else return true; // sparse or string constants stay nodes
    g.initializers.set(n.outputs[0], t);
    return false;
  });
}

/** Input shapes to fix: per input name, or one shape for a single-input model. */
export type InputShapes = Record<string, number[]> | number[];

function resolveInputShapes(model: Model, shapes: InputShapes): Map<string, number[]> {
  const inputs = model.graph.inputs;
  const out = new Map<string, number[]>();
  if (Array.isArray(shapes)) {
    if (inputs.length !== 1) {
      throw new Error(
        `model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); give a shape per input name`,
      );
    }
    out.set(inputs[0].name, shapes);
  } else {
    for (const [k, v] of Object.entries(shapes)) out.set(k, v);
  }
  for (const input of inputs) {
    const shape =
      out.get(input.name) ??
      (input.shape?.every((d) => typeof d === 'number') ? (input.shape as number[]) : undefined);
    if (!shape) throw new Error(`input "${input.name}" has dynamic shape [${input.shape}]; give its size`);
    if (input.shape && input.shape.length !== shape.length) {
      throw new Error(
        `input "${input.name}" has rank ${input.shape.length}, given shape [${shape}] has rank ${shape.length}`,
      );
    }
    input.shape?.forEach((d, i) => {
      if (typeof d === 'number' && d !== shape[i]) {
        throw new Error(
          `input "${input.name}" has fixed size ${d} on axis ${i}; given shape [${shape}] disagrees`,
        );
      }
    });
    out.set(input.name, shape);
  }
  return out;
}

function sampleInput(dtype: DType, dims: number[], rng: Random): Tensor {
  if (dtype === 'float32') return float32(rng.normals(elementCount(dims), 0.5), dims);
  return zeros(dtype, dims);
}

/**
 * Fix the input sizes, run the model once with every node output exposed, record all types and
 * shapes, and fold data-independent shape arithmetic into initializers.
 */
export async function makeStatic(
  model: Model,
  inputShapes: InputShapes,
  backend: InferenceBackend,
): Promise<StaticModel> {
  const m = cloneModel(model);
  constantsToInitializers(m);
  const g = m.graph;
  const shapes = resolveInputShapes(m, inputShapes);
  for (const input of g.inputs) input.shape = shapes.get(input.name);
  const order = topologicalOrder(g);

  // A tensor is "shape-derived" when it depends on input data only through Shape/Size and constants.
  const constant = new Set<string>(g.initializers.keys());
  const shapeDerived = new Set<string>();
  for (const n of order) {
    if (n.domain || UNFOLDABLE.has(n.opType)) continue;
    const fromShape = SHAPE_OPS.has(n.opType);
    const inputsConst = n.inputs.every((i) => !i || constant.has(i) || shapeDerived.has(i));
    if (fromShape || inputsConst) {
      const viaShape = fromShape || n.inputs.some((i) => shapeDerived.has(i));
      for (const o of n.outputs) if (o) (viaShape ? shapeDerived : constant).add(o);
    }
  }

  const exposed = new Set<string>();
  for (const n of order) for (const o of n.outputs) if (o) exposed.add(o);
  for (const o of g.outputs) exposed.delete(o.name);
  const probe = cloneModel(m);
  probe.graph.outputs = [
    ...g.outputs.map((o) => ({ name: o.name })),
    ...[...exposed].map((name) => ({ name })),
  ];
  const session = await backend.createSession(encodeModel(probe).bytes, { graphOptimization: 'disabled' });
  let values: Record<string, Tensor>;
  try {
    const rng = new Random(1);
    const feeds: Record<string, Tensor> = {};
    for (const input of g.inputs)
      feeds[input.name] = sampleInput(input.dtype ?? 'float32', shapes.get(input.name)!, rng);
    values = await session.run(feeds);
  } catch (e) {
    throw new Error(
      `shape inference run failed for input shapes ${JSON.stringify(Object.fromEntries(shapes))}: ${(e as Error).message}`,
    );
  } finally {
    await session.release();
  }

  const types = new Map<string, TensorType>();
  for (const input of g.inputs)
    types.set(input.name, { dtype: input.dtype ?? 'float32', dims: shapes.get(input.name)! });
  for (const [name, t] of g.initializers) types.set(name, { dtype: t.dtype, dims: t.dims });
  for (const [name, t] of Object.entries(values)) types.set(name, { dtype: t.dtype, dims: t.dims });
  for (const n of order) {
    for (const o of n.outputs) {
      if (o && !types.has(o))
        throw new Error(`node "${n.name}" (${n.opType}): output "${o}" got no shape from the probe run`);
    }
  }

  // Fold the frontier of shape-derived tensors (those read by non-folded nodes or graph outputs).
  const readers = consumers(g);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const folded: string[] = [];
  for (const name of shapeDerived) {
    const isFrontier =
      graphOutputs.has(name) ||
      (readers.get(name) ?? []).some((r) => !r.outputs.every((o) => !o || shapeDerived.has(o)));
    if (isFrontier) {
      g.initializers.set(name, values[name]);
      folded.push(name);
    }
  }
  if (folded.length) {
    const foldedSet = new Set(folded);
    g.nodes = g.nodes.filter((n) => !n.outputs.some((o) => foldedSet.has(o)));
    pruneDeadNodes(m);
  }
  g.valueInfo = new Map<string, ValueInfo>();
  for (const n of g.nodes)
    for (const o of n.outputs) if (o && types.has(o)) g.valueInfo.set(o, { name: o, ...types.get(o)! });
  for (const o of g.outputs) {
    const t = types.get(o.name);
    if (t) Object.assign(o, { dtype: t.dtype, shape: t.dims });
  }
  return { model: m, types, folded };
}

/** Remove nodes (and initializers) whose outputs reach no graph output. */
export function pruneDeadNodes(model: Model): void {
  const g = model.graph;
  const live = new Set(g.outputs.map((o) => o.name));
  const prod = producers(g);
  const keep = new Set<Node>();
  const stack = [...live];
  while (stack.length) {
    const t = stack.pop()!;
    const n = prod.get(t);
    if (!n || keep.has(n)) continue;
    keep.add(n);
    for (const i of n.inputs) {
      if (!i) continue;
      stack.push(i);
      live.add(i);
    }
  }
  g.nodes = g.nodes.filter((n) => keep.has(n));
  for (const name of [...g.initializers.keys()]) if (!live.has(name)) g.initializers.delete(name);
}

/**
 * A copy of the model that computes only `outputs` (nodes they do not need are dropped), with the
 * spatial axes (2 and on) of its first input made symbolic, so a fully convolutional part of a
 * network accepts images of any size.
 */
export function truncate(model: Model, outputs: readonly string[]): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const known = new Set([...g.inputs.map((i) => i.name), ...g.nodes.flatMap((n) => n.outputs)]);
  const missing = outputs.filter((o) => !known.has(o));
  if (missing.length)
    throw new Error(`cannot truncate at ${missing.map((o) => `"${o}"`).join(', ')}: no such tensor`);
  g.outputs = outputs.map((name) => ({ name }));
  g.valueInfo.clear();
  pruneDeadNodes(m);
  const input = g.inputs[0];
  if (input.shape) input.shape = input.shape.map((d, i) => (i >= 2 ? `spatial${i - 2}` : d));
  return m;
}
