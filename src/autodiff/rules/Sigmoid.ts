// dX = dY · Y · (1 − Y)
import type { GradientRule } from '../rule.js';

export const Sigmoid: GradientRule = {
  opType: 'Sigmoid',
  emit(c) {
    const e = c.emit;
    c.dx(0, e.mul(c.dy(0), e.mul(c.y(0), e.sub(e.scalar(1), c.y(0)))));
  },
};
