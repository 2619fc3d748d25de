// dX = dY · (1 − Y²)
import type { GradientRule } from '../rule.js';

export const Tanh: GradientRule = {
  opType: 'Tanh',
  emit(c) {
    const e = c.emit;
    c.dx(0, e.mul(c.dy(0), e.sub(e.scalar(1), e.mul(c.y(0), c.y(0)))));
  },
};
