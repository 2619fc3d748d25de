// Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A: dA' = α·dY·B'ᵀ, dB' = α·A'ᵀ·dY, dC = β·dY
import type { GradientRule } from '../rule.js';

export const Gemm: GradientRule = {
  opType: 'Gemm',
  emit(c) {
    const e = c.emit;
    const alpha = c.float('alpha', 1);
    const beta = c.float('beta', 1);
    const ta = c.int('transA', 0);
    const tb = c.int('transB', 0);
    const [a, b] = [c.x(0), c.x(1)];
    const dy = c.dy(0);
    const gemm = (p: string, q: string, transA: number, transB: number) =>
      e.op('Gemm', [p, q], { alpha, transA: transA || undefined, transB: transB || undefined });
    if (c.needsDx(0)) {
      // transA = 0: dA = α·dY·B'ᵀ; transA = 1: dA = α·B'·dYᵀ.
      c.dx(0, ta ? gemm(b, dy, tb, 1) : gemm(dy, b, 0, tb ? 0 : 1));
    }
    if (c.needsDx(1)) {
      // transB = 0: dB = α·A'ᵀ·dY; transB = 1: dB = α·dYᵀ·A'.
      c.dx(1, tb ? gemm(dy, a, 1, ta) : gemm(a, dy, ta ? 0 : 1, 0));
    }
    if (c.hasInput(2) && c.needsDx(2)) {
      const dc = beta === 1 ? dy : e.mul(dy, e.scalar(beta));
      c.dxBroadcast(2, dc, c.shape(c.y(0)));
    }
  },
};
