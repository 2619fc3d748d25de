// dX = dY / X
import type { GradientRule } from '../rule.js';

export const Log: GradientRule = {
  opType: 'Log',
  emit(c) {
    c.dx(0, c.emit.div(c.dy(0), c.x(0)));
  },
};
