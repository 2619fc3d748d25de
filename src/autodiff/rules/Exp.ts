// dX = dY · Y
import type { GradientRule } from '../rule.js';

export const Exp: GradientRule = {
  opType: 'Exp',
  emit(c) {
    c.dx(0, c.emit.mul(c.dy(0), c.y(0)));
  },
};
