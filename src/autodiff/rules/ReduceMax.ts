// dX = dY · [X = max(X)] / (number of maxima)
import type { GradientRule } from '../rule.js';
import { maxBackward } from './shared/maxBackward.js';
import { reduceAxes } from './shared/reduceAxes.js';

export const ReduceMax: GradientRule = {
  opType: 'ReduceMax',
  emit(c) {
    const { axes, keptShape } = reduceAxes(c, 18);
    c.dx(0, maxBackward(c, axes, keptShape));
  },
};
