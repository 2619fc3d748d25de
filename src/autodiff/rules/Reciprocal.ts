// dX = −dY · Y²
import type { GradientRule } from '../rule.js';

export const Reciprocal: GradientRule = {
  opType: 'Reciprocal',
  emit(c) {
    const e = c.emit;
    c.dx(0, e.neg(e.mul(c.dy(0), e.mul(c.y(0), c.y(0)))));
  },
};
