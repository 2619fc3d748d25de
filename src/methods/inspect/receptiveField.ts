/**
 * Receptive fields from the graph: for every spatial tensor, which input pixels one unit sees.
 *
 * Per spatial axis a field is the input interval [lo, hi] seen by unit 0 and the jump (effective
 * stride) between neighbouring units, so unit i sees [lo + i·jump, hi + i·jump]. Windowed ops
 * compose it (Araujo et al. 2019, "Computing receptive fields of convolutional neural networks"):
 *   lo' = lo − p·j,  hi' = hi + ((k − 1)·d − p)·j,  j' = j·s
 * for kernel k, stride s, leading pad p and dilation d. Branches that meet (Add, Concat, Mul, …)
 * take the union of their inputs' intervals. Padding is part of the field, so lo can be negative.
 * Tensors that no longer have spatial extent (after global pooling, Flatten, Gemm) see the whole
 * image. Inputs that enter a join only through a global path (e.g. a squeeze-and-excitation gate
 * [N, C, 1, 1]) are left out of the union, so a unit keeps its local field.
 */
import { slidingWindow } from '../../autodiff/rules/shared/window.js';
import { attributeReader } from '../../onnx/attributes.js';
import { topologicalOrder } from '../../onnx/graph.js';
import type { Model, Node } from '../../onnx/model.js';
import type { TensorType } from '../../onnx/static.js';
import { toNumbers } from '../../onnx/tensor.js';

interface Axis {
  lo: number;
  hi: number;
  jump: number;
}

/** What one unit of a spatial tensor sees in the input, per spatial axis [height, width]. */
export interface ReceptiveField {
  /** Input pixels spanned by one unit's field, padding included. */
  size: [number, number];
  /** Input pixels between neighbouring units (the product of strides). */
  jump: [number, number];
  /** Input coordinate of the first pixel seen by unit (0, 0); negative where the field starts in the padding. */
  start: [number, number];
}

/** A spatial field, `'global'` for tensors that depend on the whole image, or absent when unknown. */
export type Field = ReceptiveField | 'global';

export interface ReceptiveFields {
  fields: Map<string, Field>;
  /** Tensors whose field convlens cannot model, with the reason (op and node). */
  unknown: Map<string, string>;
}

const WINDOW_OPS = new Set(['Conv', 'MaxPool', 'AveragePool', 'LpPool']);
const GLOBAL_OPS = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
/** Ops that move spatial positions around; only handled where listed above or when they keep H and W in place. */
const REARRANGING = new Set([
  'Reshape',
  'Transpose',
  'DepthToSpace',
  'SpaceToDepth',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
]);

function toField(axes: [Axis, Axis]): ReceptiveField {
  return {
    size: [axes[0].hi - axes[0].lo + 1, axes[1].hi - axes[1].lo + 1],
    jump: [axes[0].jump, axes[1].jump],
    start: [axes[0].lo, axes[1].lo],
  };
}

function toAxes(f: ReceptiveField): [Axis, Axis] {
  return [0, 1].map((i) => ({ lo: f.start[i], hi: f.start[i] + f.size[i] - 1, jump: f.jump[i] })) as [
    Axis,
    Axis,
  ];
}

function union(fields: ReceptiveField[]): ReceptiveField {
  const axes = fields.map(toAxes);
  return toField(
    [0, 1].map((i) => ({
      lo: Math.min(...axes.map((a) => a[i].lo)),
      hi: Math.max(...axes.map((a) => a[i].hi)),
      jump: Math.max(...axes.map((a) => a[i].jump)),
    })) as [Axis, Axis],
  );
}

/**
 * Receptive fields of every tensor that depends on a rank-4 (NCHW) graph input.
 *
 * @example
 * ```ts
 * const s = await new ConvlensModel(model, nodeBackend()).prepare({ input: [1, 3, 64, 64] });
 * const { fields } = receptiveFields(s.model, s.types);
 * console.log(fields.get('conv3_out')); // { size: [7, 7], jump: [2, 2], start: [-3, -3] }
 * ```
 */
export function receptiveFields(model: Model, types: Map<string, TensorType>): ReceptiveFields {
  const fields = new Map<string, Field>();
  const unknown = new Map<string, string>();
  const dims = (t: string) => types.get(t)?.dims;
  const constant = (t: string) => {
    const c = model.graph.initializers.get(t);
    return c ? toNumbers(c) : undefined;
  };
  for (const input of model.graph.inputs) {
    if (dims(input.name)?.length === 4)
      fields.set(
        input.name,
        toField([
          { lo: 0, hi: 0, jump: 1 },
          { lo: 0, hi: 0, jump: 1 },
        ]),
      );
  }
  for (const node of topologicalOrder(model.graph)) {
    const seen = node.inputs.filter((t) => t && (fields.has(t) || unknown.has(t)));
    if (seen.length === 0) continue;
    const where = `op ${node.opType} at node "${node.name}"`;
    const inherited = seen.find((t) => unknown.has(t));
    const spatialOutput = dims(node.outputs[0])?.length === 4 && !GLOBAL_OPS.has(node.opType);
    let result: Field | undefined = 'global';
    let reason = inherited ? unknown.get(inherited) : undefined;
    if (spatialOutput && !reason) {
      try {
        result = fieldOf(node, fields, dims, constant);
        if (!result) reason = `${where} changes the spatial layout in a way convlens does not model`;
      } catch (e) {
        reason = `${where}: ${(e as Error).message}`;
      }
    }
    for (const out of node.outputs) {
      if (!out) continue;
      if (spatialOutput && reason) unknown.set(out, reason);
      else fields.set(out, dims(out)?.length === 4 && result ? result : 'global');
    }
  }
  return { fields, unknown };
}

function fieldOf(
  node: Node,
  fields: Map<string, Field>,
  dims: (t: string) => number[] | undefined,
  constant: (t: string) => number[] | undefined,
): Field | undefined {
  const out = dims(node.outputs[0]);
  const x = node.inputs[0];
  const xf = fields.get(x);
  if (!out) return undefined;
  const attrs = attributeReader(node);
  // Window geometry errors become this field's "unknown" reason.
  const reader = { ...attrs, unsupported: (reason: string) => new Error(reason) };
  const spatialInput = xf && xf !== 'global' ? toAxes(xf) : undefined;
  const inShape = dims(x);
  if (WINDOW_OPS.has(node.opType)) {
    if (!spatialInput || !inShape) return 'global';
    const kernel = node.opType === 'Conv' ? dims(node.inputs[1])!.slice(2) : attrs.ints('kernel_shape', []);
    const w = slidingWindow(reader, kernel, inShape.slice(2), out.slice(2));
    return toField(
      spatialInput.map((a, i) => ({
        lo: a.lo - w.padsBegin[i] * a.jump,
        hi: a.hi + ((w.kernel[i] - 1) * w.dilations[i] - w.padsBegin[i]) * a.jump,
        jump: a.jump * w.strides[i],
      })) as [Axis, Axis],
    );
  }
  if (node.opType === 'ConvTranspose') {
    if (!spatialInput || !inShape) return 'global';
    const kernel = dims(node.inputs[1])!.slice(2);
    // Output o gathers inputs i with o = i·s − p + k·d, i.e. i ∈ [⌈(p − (K−1)d)/s⌉, ⌊p/s⌋] for o = 0.
    const w = slidingWindow(reader, kernel, out.slice(2), inShape.slice(2));
    return toField(
      spatialInput.map((a, i) => ({
        lo: a.lo + Math.ceil((w.padsBegin[i] - (w.kernel[i] - 1) * w.dilations[i]) / w.strides[i]) * a.jump,
        hi: a.hi + Math.floor(w.padsBegin[i] / w.strides[i]) * a.jump,
        jump: a.jump / w.strides[i],
      })) as [Axis, Axis],
    );
  }
  if (node.opType === 'Resize' || node.opType === 'Upsample') {
    if (!spatialInput || !inShape) return 'global';
    const linear = attrs.string('mode', 'nearest') !== 'nearest';
    return toField(
      spatialInput.map((a, i) => {
        const scale = out[2 + i] / inShape[2 + i];
        const centre = 0.5 / scale - 0.5; // half-pixel source coordinate of output 0
        const [from, to] = linear
          ? [Math.floor(centre), Math.floor(centre) + 1]
          : [Math.round(centre), Math.round(centre)];
        return { lo: a.lo + from * a.jump, hi: a.hi + to * a.jump, jump: a.jump / scale };
      }) as [Axis, Axis],
    );
  }
  if (node.opType === 'Pad') {
    if (!spatialInput) return 'global';
    const pads = node.inputs[1] ? constant(node.inputs[1]) : attrs.ints('pads', []);
    if (!pads) throw new Error('pads are not a constant');
    const axes = node.inputs[3] ? constant(node.inputs[3]) : undefined;
    const rank = 4;
    const list = axes ?? [0, 1, 2, 3];
    const before = (axis: number) => {
      const k = list.findIndex((a) => (a + rank) % rank === axis);
      return k < 0 ? 0 : pads[k];
    };
    return toField(
      spatialInput.map((a, i) => ({
        lo: a.lo - before(2 + i) * a.jump,
        hi: a.hi - before(2 + i) * a.jump,
        jump: a.jump,
      })) as [Axis, Axis],
    );
  }
  if (node.opType === 'Slice') {
    if (!spatialInput || !inShape) return 'global';
    const starts = constant(node.inputs[1]);
    const axes = node.inputs[3] ? constant(node.inputs[3]) : [0, 1, 2, 3].slice(0, starts?.length);
    const steps = node.inputs[4] ? constant(node.inputs[4]) : undefined;
    if (!starts || !axes || (node.inputs[4] && !steps))
      throw new Error('starts, axes or steps are not constants');
    const result = spatialInput.map((a) => ({ ...a }));
    for (const [k, raw] of axes.entries()) {
      const axis = (raw + 4) % 4;
      if (axis < 2) continue;
      const size = inShape[axis];
      const step = steps?.[k] ?? 1;
      if (step < 1) throw new Error('negative slice steps are not modelled');
      const start = Math.min(Math.max(starts[k] < 0 ? starts[k] + size : starts[k], 0), size);
      const a = result[axis - 2];
      a.lo += start * a.jump;
      a.hi += start * a.jump;
      a.jump *= step;
    }
    return toField(result as [Axis, Axis]);
  }
  if (REARRANGING.has(node.opType)) {
    const keepsSpatial =
      node.opType === 'Transpose'
        ? attrs.ints('perm', [3, 2, 1, 0])[2] === 2 && attrs.ints('perm', [3, 2, 1, 0])[3] === 3
        : inShape?.length === 4 && inShape[2] === out[2] && inShape[3] === out[3];
    if (!keepsSpatial) return spatialInput ? undefined : 'global';
  }
  // Pointwise and joining ops: the union of the inputs that share the output's spatial grid.
  const joined: ReceptiveField[] = [];
  for (const t of node.inputs) {
    const f = t ? fields.get(t) : undefined;
    if (!f || f === 'global') continue;
    const d = dims(t)!;
    if (d[2] !== out[2] || d[3] !== out[3]) return undefined;
    joined.push(f);
  }
  return joined.length > 0 ? union(joined) : 'global';
}

/** The input pixels [y0, x0, y1, x1) (end-exclusive, may reach outside the image) seen by unit (y, x). */
export function fieldRegion(field: ReceptiveField, y: number, x: number): [number, number, number, number] {
  const y0 = Math.floor(field.start[0] + y * field.jump[0]);
  const x0 = Math.floor(field.start[1] + x * field.jump[1]);
  return [y0, x0, y0 + Math.round(field.size[0]), x0 + Math.round(field.size[1])];
}

/** "11×11 /4" style summary of a field. */
export function describeField(f: Field | undefined): string {
  if (!f) return '?';
  if (f === 'global') return 'global';
  const n = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
  return `${n(f.size[0])}×${n(f.size[1])} /${f.jump[0] === f.jump[1] ? n(f.jump[0]) : `${n(f.jump[0])}×${n(f.jump[1])}`}`;
}
