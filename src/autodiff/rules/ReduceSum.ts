// dX = Expand(dY with reduced axes kept, shape(X))
import type { GradientRule } from '../rule.js';
import { reduceAxes } from './shared/reduceAxes.js';

export const ReduceSum: GradientRule = {
  opType: 'ReduceSum',
  emit(c) {
    const { keptShape } = reduceAxes(c, 13);
    const e = c.emit;
    c.dx(0, e.expand(e.reshape(c.dy(0), keptShape), c.shape(c.x(0))));
  },
};
