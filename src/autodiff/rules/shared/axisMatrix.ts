// Linear maps along one axis (Resize, Pad's reflect/edge/wrap modes): Y = M ×_axis X with M [out, in],
// so dX = Mᵀ ×_axis dY, emitted as one MatMul (transposing the axis to the end only when needed).
import type { Emitter } from '../../emitter.js';

/** dX[…, i, …] = Σ_o M[o, i] · dY[…, o, …] along `axis` of a rank-`rank` tensor; `m` is row-major [out, inSize]. */
export function transposedAlongAxis(
  e: Emitter,
  dy: string,
  axis: number,
  rank: number,
  m: Float32Array,
  out: number,
  inSize: number,
): string {
  if (axis === rank - 2) {
    const mt = new Float32Array(inSize * out);
    for (let o = 0; o < out; o++) for (let i = 0; i < inSize; i++) mt[i * out + o] = m[o * inSize + i];
    return e.op('MatMul', [e.constant({ dtype: 'float32', dims: [inSize, out], data: mt }, 'axismap'), dy]);
  }
  const matrix = e.constant({ dtype: 'float32', dims: [out, inSize], data: m }, 'axismap');
  if (axis === rank - 1) return e.op('MatMul', [dy, matrix]);
  const perm = Array.from({ length: rank }, (_, i) => (i === axis ? rank - 1 : i === rank - 1 ? axis : i));
  return e.transpose(e.op('MatMul', [e.transpose(dy, perm), matrix]), perm);
}
