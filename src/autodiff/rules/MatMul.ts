// Y = A·B (batched, broadcast): dA = dY·Bᵀ, dB = Aᵀ·dY (transposing the last two axes)
import type { GradientRule } from '../rule.js';

const swapLast = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];

export const MatMul: GradientRule = {
  opType: 'MatMul',
  emit(c) {
    const e = c.emit;
    const [a, b] = [c.shape(c.x(0)), c.shape(c.x(1))];
    if (a.length < 2 || b.length < 2) throw c.unsupported('1-D operands are not supported (reshape to 2-D)');
    const dy = c.dy(0);
    const out = c.shape(c.y(0));
    if (c.needsDx(0)) {
      const da = e.op('MatMul', [dy, e.transpose(c.x(1), swapLast(b.length))]);
      c.dxBroadcast(0, da, [...out.slice(0, -1), a[a.length - 1]]);
    }
    if (c.needsDx(1)) {
      const db = e.op('MatMul', [e.transpose(c.x(0), swapLast(a.length)), dy]);
      const batch = out.slice(0, -2);
      c.dxBroadcast(1, db, [...batch, ...b.slice(-2)]);
    }
  },
};
