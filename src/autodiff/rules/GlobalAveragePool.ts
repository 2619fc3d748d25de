// dX = Expand(dY, shape(X)) / (H·W)
import type { GradientRule } from '../rule.js';

export const GlobalAveragePool: GradientRule = {
  opType: 'GlobalAveragePool',
  emit(c) {
    const e = c.emit;
    const xs = c.shape(c.x(0));
    const area = xs.slice(2).reduce((a, b) => a * b, 1);
    c.dx(0, e.expand(e.mul(c.dy(0), e.scalar(1 / area)), xs));
  },
};
