// dX = Expand(dY with reduced axes kept, shape(X)) / (number of reduced elements)
import type { GradientRule } from '../rule.js';
import { reduceAxes } from './shared/reduceAxes.js';

export const ReduceMean: GradientRule = {
  opType: 'ReduceMean',
  emit(c) {
    const { axes, keptShape } = reduceAxes(c, 18);
    const e = c.emit;
    const xs = c.shape(c.x(0));
    const count = axes.reduce((n, a) => n * xs[a], 1);
    const scaled = e.mul(e.reshape(c.dy(0), keptShape), e.scalar(1 / count));
    c.dx(0, e.expand(scaled, xs));
  },
};
