import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from './npy.js';

describe('npy', () => {
  it('round-trips float32 arrays with a 64-byte aligned header', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i / 3 - 2);
    const bytes = encodeNpy(data, [2, 3, 4]);
    const header = new TextDecoder('latin1').decode(bytes.subarray(10, 10 + (bytes[8] | (bytes[9] << 8))));
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3, 4\), \} *\n$/);
    expect((10 + header.length) % 64).toBe(0);
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([2, 3, 4]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(decodeNpy(encodeNpy(Float32Array.of(5), [1])).shape).toEqual([1]);
  });

  it('reads float64 and rejects what it cannot read, naming the file', () => {
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
    const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    const bytes = new Uint8Array(10 + padded.length + 16);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
    new DataView(bytes.buffer).setUint16(8, padded.length, true);
    for (let i = 0; i < padded.length; i++) bytes[10 + i] = padded.charCodeAt(i);
    new DataView(bytes.buffer).setFloat64(10 + padded.length, 1.5, true);
    new DataView(bytes.buffer).setFloat64(18 + padded.length, -2, true);
    expect(Array.from(decodeNpy(bytes).data)).toEqual([1.5, -2]);
    const int = Uint8Array.from(bytes);
    int[10 + header.indexOf('<f8') + 1] = 'i'.charCodeAt(0);
    expect(() => decodeNpy(int, 'x.npy')).toThrow(/x.npy: dtype "<i8" is not supported/);
    expect(() => decodeNpy(bytes.subarray(0, bytes.length - 3), 'x.npy')).toThrow(
      /needs 16 bytes of data, the file has 13/,
    );
    expect(() => decodeNpy(Uint8Array.of(1, 2, 3), 'x.npy')).toThrow(/not a .npy file/);
  });
});
