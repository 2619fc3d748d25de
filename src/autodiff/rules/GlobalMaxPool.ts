// dX = dY · [X = max over H, W] / (number of maxima)
import type { GradientRule } from '../rule.js';
import { maxBackward } from './shared/maxBackward.js';

export const GlobalMaxPool: GradientRule = {
  opType: 'GlobalMaxPool',
  emit(c) {
    const xs = c.shape(c.x(0));
    const axes = xs.map((_, i) => i).slice(2);
    c.dx(0, maxBackward(c, axes, c.shape(c.y(0))));
  },
};
