/**
 * NumPy .npy files (format version 1.0/2.0/3.0, https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * a magic string, a header dict {'descr', 'fortran_order', 'shape'} padded to 64 bytes, then raw
 * little-endian data. convlens writes float32 C-order arrays and reads float32/float64 ones.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Encode a float32 C-order array as .npy (version 1.0). */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new Error(`npy: ${data.length} values do not fill shape [${shape.join(', ')}]`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64);
  header += '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) body.setFloat32(i * 4, data[i], true);
  return out;
}

export interface NpyArray {
  dtype: 'float32' | 'float64';
  shape: number[];
  /** The values as float32 (float64 files are converted). */
  data: Float32Array;
}

/** Decode a .npy file holding a little-endian float32 or float64 C-order array; `source` names it in errors. */
export function decodeNpy(bytes: Uint8Array, source = 'npy'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new Error(`${source}: not a .npy file (bad magic)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) throw new Error(`${source}: unsupported .npy version ${major}.${bytes[7]}`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + headerLength),
  );
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined)
    throw new Error(`${source}: malformed .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True')
    throw new Error(`${source}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const dtype =
    descr === '<f4' || descr === '=f4'
      ? 'float32'
      : descr === '<f8' || descr === '=f8'
        ? 'float64'
        : undefined;
  if (!dtype)
    throw new Error(
      `${source}: dtype "${descr}" is not supported; convlens reads float32 ('<f4') or float64 ('<f8')`,
    );
  const count = shape.reduce((a, b) => a * b, 1);
  const size = dtype === 'float32' ? 4 : 8;
  const offset = start + headerLength;
  if (bytes.length - offset !== count * size)
    throw new Error(
      `${source}: shape (${shape.join(', ')}) needs ${count * size} bytes of data, the file has ${bytes.length - offset}`,
    );
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++)
    data[i] =
      dtype === 'float32' ? view.getFloat32(offset + i * 4, true) : view.getFloat64(offset + i * 8, true);
  return { dtype, shape, data };
}
