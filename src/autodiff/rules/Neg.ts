// dX = −dY
import type { GradientRule } from '../rule.js';

export const Neg: GradientRule = {
  opType: 'Neg',
  emit(c) {
    c.dx(0, c.emit.neg(c.dy(0)));
  },
};
