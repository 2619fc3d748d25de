// dX = dY · 2/√π · exp(−X²)
import type { GradientRule } from '../rule.js';

export const Erf: GradientRule = {
  opType: 'Erf',
  emit(c) {
    const e = c.emit;
    const x = c.x(0);
    const g = e.op('Exp', [e.neg(e.mul(x, x))]);
    c.dx(0, e.mul(c.dy(0), e.mul(g, e.scalar(2 / Math.sqrt(Math.PI)))));
  },
};
