// dX = Y · (dY − Σ_axis(dY · Y))
import type { GradientRule } from '../rule.js';
import { softmaxAxes } from './shared/softmaxAxes.js';

export const Softmax: GradientRule = {
  opType: 'Softmax',
  emit(c) {
    const e = c.emit;
    const [y, dy] = [c.y(0), c.dy(0)];
    const dot = e.reduceSum(e.mul(dy, y), softmaxAxes(c), true);
    c.dx(0, e.mul(y, e.sub(dy, dot)));
  },
};
