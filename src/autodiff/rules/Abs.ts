// dX = dY · sign(X)
import type { GradientRule } from '../rule.js';

export const Abs: GradientRule = {
  opType: 'Abs',
  emit(c) {
    c.dx(0, c.emit.mul(c.dy(0), c.emit.op('Sign', [c.x(0)])));
  },
};
