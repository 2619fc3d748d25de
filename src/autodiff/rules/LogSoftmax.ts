// dX = dY − exp(Y) · Σ_axis dY
import type { GradientRule } from '../rule.js';
import { softmaxAxes } from './shared/softmaxAxes.js';

export const LogSoftmax: GradientRule = {
  opType: 'LogSoftmax',
  emit(c) {
    const e = c.emit;
    const dy = c.dy(0);
    const total = e.reduceSum(dy, softmaxAxes(c), true);
    c.dx(0, e.sub(dy, e.mul(e.op('Exp', [c.y(0)]), total)));
  },
};
