// dX = dY / (2Y)
import type { GradientRule } from '../rule.js';

export const Sqrt: GradientRule = {
  opType: 'Sqrt',
  emit(c) {
    const e = c.emit;
    c.dx(0, e.div(c.dy(0), e.mul(c.y(0), e.scalar(2))));
  },
};
