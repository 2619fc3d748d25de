// Y = A·B (batched, broadcast): dA = dY·Bᵀ, dB = Aᵀ·dY (transposing the last two axes); a 1-D A is
// promoted to [1, K] and a 1-D B to [K, 1] (numpy semantics), their added axes dropped from dY's shape
import type { GradientRule } from '../rule.js';

const swapLast = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];

export const MatMul: GradientRule = {
  opType: 'MatMul',
  emit(c) {
    const e = c.emit;
    const [a, b] = [c.shape(c.x(0)), c.shape(c.x(1))];
    const vectorA = a.length === 1;
    const vectorB = b.length === 1;
    const a2 = vectorA ? [1, a[0]] : a;
    const b2 = vectorB ? [b[0], 1] : b;
    const xa = vectorA ? e.reshape(c.x(0), a2) : c.x(0);
    const xb = vectorB ? e.reshape(c.x(1), b2) : c.x(1);
    const out = c.shape(c.y(0));
    const batch = out.slice(0, out.length - (vectorA ? 0 : 1) - (vectorB ? 0 : 1));
    const out2 = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
    const dy = vectorA || vectorB ? e.reshape(c.dy(0), out2) : c.dy(0);
    const k = a2[a2.length - 1];
    if (c.needsDx(0)) {
      const da = e.op('MatMul', [dy, e.transpose(xb, swapLast(b2.length))]);
      if (vectorA) c.dxBroadcast(0, e.reshape(da, [...batch, k]), [...batch, k]);
      else c.dxBroadcast(0, da, [...out2.slice(0, -1), k]);
    }
    if (c.needsDx(1)) {
      const db = e.op('MatMul', [e.transpose(xa, swapLast(a2.length)), dy]);
      if (vectorB) c.dxBroadcast(1, e.reshape(db, [...batch, k]), [...batch, k]);
      else c.dxBroadcast(1, db, [...batch, k, b2[b2.length - 1]]);
    }
  },
};
