// exact: dX = dY · (Φ(X) + X·φ(X)); tanh: with u = √(2/π)(X + 0.044715X³),
// dX = dY · (½(1 + tanh u) + ½X(1 − tanh²u)·√(2/π)(1 + 3·0.044715X²))
import type { GradientRule } from '../rule.js';

export const Gelu: GradientRule = {
  opType: 'Gelu',
  emit(c) {
    const e = c.emit;
    const x = c.x(0);
    const half = e.scalar(0.5);
    let slope: string;
    if (c.string('approximate', 'none') === 'tanh') {
      const k = Math.sqrt(2 / Math.PI);
      const x2 = e.mul(x, x);
      const u = e.mul(e.scalar(k), e.add(x, e.mul(e.scalar(0.044715), e.mul(x2, x))));
      const t = e.op('Tanh', [u]);
      const du = e.mul(e.scalar(k), e.add(e.scalar(1), e.mul(e.scalar(3 * 0.044715), x2)));
      const left = e.mul(half, e.add(e.scalar(1), t));
      const right = e.mul(e.mul(half, x), e.mul(e.sub(e.scalar(1), e.mul(t, t)), du));
      slope = e.add(left, right);
    } else {
      const cdf = e.mul(half, e.add(e.scalar(1), e.op('Erf', [e.mul(x, e.scalar(Math.SQRT1_2))])));
      const pdf = e.mul(
        e.scalar(1 / Math.sqrt(2 * Math.PI)),
        e.op('Exp', [e.mul(e.mul(x, x), e.scalar(-0.5))]),
      );
      slope = e.add(cdf, e.mul(x, pdf));
    }
    c.dx(0, e.mul(c.dy(0), slope));
  },
};
