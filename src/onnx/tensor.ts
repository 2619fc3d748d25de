/** Dense tensors as typed arrays, and their conversion to and from onnx.TensorProto. */

export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool';

export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A dense tensor: element type, dimensions and row-major data. */
export interface Tensor {
  dtype: DType;
  dims: number[];
  data: TensorData;
}

/** ONNX TensorProto.DataType code for each supported element type. */
export const DTYPE_CODE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
};

const CODE_DTYPE = new Map<number, DType>(Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as DType]));

/** The element type for an ONNX data-type code; throws naming the code when convlens cannot hold it. */
export function dtypeFromCode(code: number, context = 'tensor'): DType {
  const dtype = CODE_DTYPE.get(code);
  if (!dtype) {
    throw new Error(
      `${context}: ONNX data type ${code} is not supported; supported: ${[...CODE_DTYPE.entries()]
        .map(([c, d]) => `${d} (${c})`)
        .join(', ')}`,
    );
  }
  return dtype;
}

const CTOR = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
} as const;

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A zero-filled tensor. */
export function zeros(dtype: DType, dims: number[]): Tensor {
  return { dtype, dims: [...dims], data: new CTOR[dtype](elementCount(dims)) };
}

/** A float32 tensor from numbers. */
export function float32(values: ArrayLike<number>, dims: number[] = [values.length]): Tensor {
  checkLength(values.length, dims);
  return { dtype: 'float32', dims: [...dims], data: Float32Array.from(values) };
}

/** An int64 tensor from numbers. */
export function int64(values: ArrayLike<number>, dims: number[] = [values.length]): Tensor {
  checkLength(values.length, dims);
  return { dtype: 'int64', dims: [...dims], data: BigInt64Array.from(Array.from(values, (v) => BigInt(v))) };
}

function checkLength(n: number, dims: number[]): void {
  if (n !== elementCount(dims)) throw new Error(`tensor: ${n} values do not fill dims [${dims}]`);
}

/** The tensor's values as plain numbers (int64 converted; precision beyond 2^53 is lost). */
export function toNumbers(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Copy of the bytes of a typed array, little-endian as ONNX raw_data requires. */
function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function fromBytes(dtype: DType, bytes: Uint8Array, count: number, context: string): TensorData {
  const ctor = CTOR[dtype];
  const need = count * ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength !== need) {
    throw new Error(
      `${context}: raw data holds ${bytes.byteLength} bytes, ${dtype} x ${count} needs ${need}`,
    );
  }
  // protobuf bytes are views into a shared buffer at arbitrary offsets: copy to an aligned buffer.
  const copy = new Uint8Array(need);
  copy.set(bytes);
  return new ctor(copy.buffer, 0, count);
}

/** Plain-object form of onnx.TensorProto as protobufjs reads and writes it (keepCase field names). */
export interface TensorProtoObject {
  name?: string;
  dims?: (number | { toNumber(): number })[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: (number | { toNumber(): number })[];
  double_data?: number[];
  uint64_data?: (number | { toNumber(): number })[];
  data_location?: number;
  external_data?: { key?: string; value?: string }[];
  doc_string?: string;
}

export function num(v: number | { toNumber(): number } | undefined | null): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Where an external-data tensor's bytes live (ONNX external data: location, offset, length). */
export interface ExternalRef {
  location: string;
  offset: number;
  length?: number;
}

export function externalRef(p: TensorProtoObject): ExternalRef | undefined {
  if (p.data_location !== 1) return undefined;
  const kv = new Map((p.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  if (!location) throw new Error(`tensor "${p.name}": external data without a location`);
  const length = kv.get('length');
  return { location, offset: Number(kv.get('offset') ?? 0), length: length ? Number(length) : undefined };
}

/**
 * Decode a TensorProto. `external` supplies the bytes of an external-data tensor when the model
 * keeps them beside the file.
 */
export function tensorFromProto(p: TensorProtoObject, external?: (ref: ExternalRef) => Uint8Array): Tensor {
  const context = `tensor "${p.name ?? ''}"`;
  const dtype = dtypeFromCode(p.data_type ?? 0, context);
  const dims = (p.dims ?? []).map(num);
  const count = elementCount(dims);
  const ref = externalRef(p);
  if (ref) {
    if (!external)
      throw new Error(`${context}: data is stored externally in "${ref.location}" and no reader was given`);
    return { dtype, dims, data: fromBytes(dtype, external(ref), count, context) };
  }
  if (p.raw_data && p.raw_data.byteLength > 0)
    return { dtype, dims, data: fromBytes(dtype, p.raw_data, count, context) };
  const ctor = CTOR[dtype];
  let data: TensorData;
  switch (dtype) {
    case 'float32':
      data = Float32Array.from(p.float_data ?? []);
      break;
    case 'float64':
      data = Float64Array.from(p.double_data ?? []);
      break;
    case 'int64':
      data = BigInt64Array.from((p.int64_data ?? []).map((v) => BigInt(num(v))));
      break;
    case 'uint64':
    case 'uint32':
      data =
        dtype === 'uint64'
          ? BigUint64Array.from((p.uint64_data ?? []).map((v) => BigInt(num(v))))
          : Uint32Array.from((p.uint64_data ?? []).map(num));
      break;
    default:
      // int32_data carries int32, int16, int8, uint16, uint8, bool and float16 bit patterns.
      data = new (ctor as Int32ArrayConstructor)(p.int32_data ?? []);
  }
  if (data.length !== count) {
    throw new Error(`${context}: holds ${data.length} values, dims [${dims}] need ${count}`);
  }
  return { dtype, dims, data };
}

/** Encode a tensor as a TensorProto with raw_data. */
export function tensorToProto(name: string, t: Tensor): TensorProtoObject {
  return { name, dims: [...t.dims], data_type: DTYPE_CODE[t.dtype], raw_data: bytesOf(t.data) };
}

export function tensorBytes(t: Tensor): Uint8Array {
  return bytesOf(t.data);
}
