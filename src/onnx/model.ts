/**
 * The convlens graph IR: an ONNX model as plain, mutable TypeScript objects, with conversion to and
 * from onnx.ModelProto bytes (external data included).
 */
import { ModelProtoType } from './schema.js';
import {
  DTYPE_CODE,
  type DType,
  dtypeFromCode,
  type ExternalRef,
  num,
  type Tensor,
  type TensorProtoObject,
  tensorBytes,
  tensorFromProto,
  tensorToProto,
} from './tensor.js';

/** A node attribute. Graph-valued and other rare attributes are carried through unchanged as `raw`. */
export type Attribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: Tensor }
  | { type: 'raw'; value: Record<string, unknown> };

export interface Node {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attribute>;
}

/** A dimension is a number when static, a symbol (e.g. "batch") when dynamic, null when unknown. */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  /** Left undefined for outputs whose type onnxruntime infers (e.g. exposed intermediates). */
  dtype?: DType;
  shape?: Dim[];
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Tensor>;
  valueInfo: Map<string, ValueInfo>;
}

export interface Model {
  irVersion: number;
  /** Operator set version per domain ("" is the default ai.onnx domain). */
  opsets: Record<string, number>;
  producerName: string;
  producerVersion: string;
  docString: string;
  /** ONNX metadata_props; convlens keeps its model card here. */
  metadata: Record<string, string>;
  graph: Graph;
  /** Model-level fields convlens does not interpret (functions, training_info), kept for round trips. */
  extra: Record<string, unknown>;
  /** Where it was read from (e.g. the quoted file name), for error messages; never written. */
  source?: string;
}

const ATTR_TYPES: Record<number, Attribute['type']> = {
  1: 'float',
  2: 'int',
  3: 'string',
  4: 'tensor',
  6: 'floats',
  7: 'ints',
  8: 'strings',
};
const ATTR_CODES: Record<string, number> = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  floats: 6,
  ints: 7,
  strings: 8,
};

const decoder = new TextDecoder();
const encoder = new TextEncoder();

// biome-ignore lint/suspicious/noExplicitAny: protobufjs plain objects of the ONNX schema are untyped.
type AnyObj = Record<string, any>;

function attrFromProto(a: AnyObj, read: (t: TensorProtoObject) => Tensor): Attribute {
  const type = ATTR_TYPES[a.type ?? 0];
  switch (type) {
    case 'float':
      return { type, value: a.f ?? 0 };
    case 'int':
      return { type, value: num(a.i) };
    case 'string':
      return { type, value: decoder.decode(a.s ?? new Uint8Array()) };
    case 'floats':
      return { type, value: [...(a.floats ?? [])] };
    case 'ints':
      return { type, value: (a.ints ?? []).map(num) };
    case 'strings':
      return { type, value: (a.strings ?? []).map((s: Uint8Array) => decoder.decode(s)) };
    case 'tensor':
      return { type, value: read(a.t) };
    default:
      return { type: 'raw', value: a };
  }
}

function attrToProto(name: string, a: Attribute): AnyObj {
  if (a.type === 'raw') return { ...a.value, name };
  const out: AnyObj = { name, type: ATTR_CODES[a.type] };
  switch (a.type) {
    case 'float':
      out.f = a.value;
      break;
    case 'int':
      out.i = a.value;
      break;
    case 'string':
      out.s = encoder.encode(a.value);
      break;
    case 'floats':
      out.floats = a.value;
      break;
    case 'ints':
      out.ints = a.value;
      break;
    case 'strings':
      out.strings = a.value.map((s) => encoder.encode(s));
      break;
    case 'tensor':
      out.t = tensorToProto('', a.value);
      break;
  }
  return out;
}

function valueInfoFromProto(v: AnyObj): ValueInfo {
  const tt = v.type?.tensor_type;
  const dims = tt?.shape?.dim as AnyObj[] | undefined;
  return {
    name: v.name ?? '',
    dtype: tt?.elem_type ? dtypeFromCode(tt.elem_type, `value "${v.name}"`) : 'float32',
    shape: dims?.map((d) =>
      d.dim_value !== undefined && d.dim_value !== null ? num(d.dim_value) : (d.dim_param ?? null),
    ),
  };
}

function valueInfoToProto(v: ValueInfo): AnyObj {
  if (!v.dtype) return { name: v.name };
  const tensor_type: AnyObj = { elem_type: DTYPE_CODE[v.dtype] };
  if (v.shape) {
    tensor_type.shape = {
      dim: v.shape.map((d) =>
        typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {},
      ),
    };
  }
  return { name: v.name, type: { tensor_type } };
}

export interface DecodeOptions {
  /** Reads an external-data file named by a tensor (relative to the model file). */
  readExternal?: (location: string) => Uint8Array;
  /** Names the source in error messages. */
  source?: string;
}

/** Parse ONNX ModelProto bytes into the graph IR. Throws "not an ONNX model" for other bytes. */
export function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): Model {
  const source = options.source ?? 'model';
  let msg: AnyObj;
  try {
    msg = ModelProtoType.toObject(ModelProtoType.decode(bytes), {
      longs: Number,
      enums: Number,
      arrays: true,
    });
  } catch (e) {
    throw new Error(`${source} is not an ONNX model (protobuf decoding failed: ${(e as Error).message})`);
  }
  if (!msg.graph || !msg.ir_version) {
    throw new Error(`${source} is not an ONNX model (no graph or IR version found)`);
  }
  const files = new Map<string, Uint8Array>();
  const readExternal = (ref: ExternalRef): Uint8Array => {
    if (!options.readExternal) {
      throw new Error(
        `${source}: tensor data is stored in external file "${ref.location}"; load the model from its file`,
      );
    }
    let file = files.get(ref.location);
    if (!file) {
      file = options.readExternal(ref.location);
      files.set(ref.location, file);
    }
    const length = ref.length ?? file.byteLength - ref.offset;
    if (ref.offset + length > file.byteLength) {
      throw new Error(
        `${source}: external file "${ref.location}" is shorter than offset ${ref.offset} + length ${length}`,
      );
    }
    return file.subarray(ref.offset, ref.offset + length);
  };
  const read = (t: TensorProtoObject) => tensorFromProto(t, readExternal);
  const g = msg.graph;
  const graph: Graph = {
    name: g.name ?? 'graph',
    nodes: (g.node as AnyObj[]).map((n, i) => ({
      name: n.name || `${n.op_type}_${i}`,
      opType: n.op_type ?? '',
      domain: n.domain ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attrs: Object.fromEntries((n.attribute as AnyObj[]).map((a) => [a.name, attrFromProto(a, read)])),
    })),
    initializers: new Map((g.initializer as TensorProtoObject[]).map((t) => [t.name ?? '', read(t)])),
    inputs: [],
    outputs: (g.output as AnyObj[]).map(valueInfoFromProto),
    valueInfo: new Map((g.value_info as AnyObj[]).map((v) => [v.name, valueInfoFromProto(v)])),
  };
  // Initializers listed as graph inputs (older exporters) block onnxruntime's constant folding: drop them.
  graph.inputs = (g.input as AnyObj[]).filter((v) => !graph.initializers.has(v.name)).map(valueInfoFromProto);
  const extra: Record<string, unknown> = {};
  for (const key of ['functions', 'training_info', 'domain', 'model_version'] as const) {
    const v = msg[key];
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) extra[key] = v;
  }
  for (const key of ['sparse_initializer', 'quantization_annotation'] as const) {
    if (g[key]?.length) extra[`graph.${key}`] = g[key];
  }
  return {
    irVersion: num(msg.ir_version),
    opsets: Object.fromEntries((msg.opset_import as AnyObj[]).map((o) => [o.domain ?? '', num(o.version)])),
    producerName: msg.producer_name ?? '',
    producerVersion: msg.producer_version ?? '',
    docString: msg.doc_string ?? '',
    metadata: Object.fromEntries((msg.metadata_props as AnyObj[]).map((p) => [p.key ?? '', p.value ?? ''])),
    graph,
    extra,
    ...(options.source !== undefined ? { source: options.source } : {}),
  };
}

export interface EncodeOptions {
  /**
   * Store initializers of at least `threshold` bytes (default 1024) in one external file named
   * `location`, as ONNX external data. The caller writes `external` next to the model.
   */
  externalData?: { location: string; threshold?: number };
}

export interface EncodedModel {
  bytes: Uint8Array;
  /** Bytes of the external-data file, when `externalData` was asked for. */
  external?: Uint8Array;
}

/** Serialise the IR to ModelProto bytes. */
export function encodeModel(model: Model, options: EncodeOptions = {}): EncodedModel {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const ext = options.externalData;
  const initializer = [...model.graph.initializers].map(([name, t]) => {
    const bytes = tensorBytes(t);
    if (!ext || bytes.byteLength < (ext.threshold ?? 1024)) return tensorToProto(name, t);
    // ONNX external data: offsets are conventionally aligned to 4096 bytes for memory mapping.
    const pad = (4096 - (offset % 4096)) % 4096;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(bytes);
    const proto: TensorProtoObject = {
      name,
      dims: [...t.dims],
      data_type: DTYPE_CODE[t.dtype],
      data_location: 1,
      external_data: [
        { key: 'location', value: ext.location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(bytes.byteLength) },
      ],
    };
    offset += bytes.byteLength;
    return proto;
  });
  const g = model.graph;
  const graph: AnyObj = {
    name: g.name,
    node: g.nodes.map((n) => ({
      name: n.name,
      op_type: n.opType,
      domain: n.domain || undefined,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs).map(([k, a]) => attrToProto(k, a)),
    })),
    initializer,
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    value_info: [...g.valueInfo.values()].map(valueInfoToProto),
  };
  for (const key of ['sparse_initializer', 'quantization_annotation']) {
    if (model.extra[`graph.${key}`]) graph[key] = model.extra[`graph.${key}`];
  }
  const obj: AnyObj = {
    ir_version: model.irVersion,
    opset_import: Object.entries(model.opsets).map(([domain, version]) => ({ domain, version })),
    producer_name: model.producerName,
    producer_version: model.producerVersion,
    doc_string: model.docString || undefined,
    graph,
    metadata_props: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
    ...Object.fromEntries(Object.entries(model.extra).filter(([k]) => !k.startsWith('graph.'))),
  };
  const bytes = ModelProtoType.encode(ModelProtoType.fromObject(obj)).finish();
  if (!ext) return { bytes };
  const external = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    external.set(c, at);
    at += c.byteLength;
  }
  return { bytes, external };
}

/** A deep-enough copy: nodes, value lists and maps are new; tensor data is shared (treat it as immutable). */
export function cloneModel(model: Model): Model {
  const g = model.graph;
  return {
    ...model,
    opsets: { ...model.opsets },
    metadata: { ...model.metadata },
    extra: { ...model.extra },
    graph: {
      name: g.name,
      nodes: g.nodes.map((n) => ({
        ...n,
        inputs: [...n.inputs],
        outputs: [...n.outputs],
        attrs: { ...n.attrs },
      })),
      inputs: g.inputs.map((v) => ({ ...v, shape: v.shape && [...v.shape] })),
      outputs: g.outputs.map((v) => ({ ...v, shape: v.shape && [...v.shape] })),
      initializers: new Map(g.initializers),
      valueInfo: new Map(g.valueInfo),
    },
  };
}

/**
 * A copy of the model whose named initializers are graph inputs, so each run can feed new values
 * (perturbed for finite differences, updated weights in training). Names that are not
 * initializers are left alone.
 */
export function liftToInputs(model: Model, names: readonly string[]): Model {
  const m = cloneModel(model);
  for (const name of names) {
    const t = m.graph.initializers.get(name);
    if (t) {
      m.graph.initializers.delete(name);
      m.graph.inputs.push({ name, dtype: t.dtype, shape: t.dims });
    }
  }
  return m;
}

/** The ai.onnx opset version of a model. */
export function defaultOpset(model: Model): number {
  return model.opsets[''] ?? model.opsets['ai.onnx'] ?? 0;
}
