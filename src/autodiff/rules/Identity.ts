// dX = dY
import type { GradientRule } from '../rule.js';

export const Identity: GradientRule = {
  opType: 'Identity',
  emit(c) {
    c.dx(0, c.dy(0));
  },
};
