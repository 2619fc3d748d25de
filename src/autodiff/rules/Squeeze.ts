// dX = Reshape(dY, shape(X))
import type { GradientRule } from '../rule.js';

export const Squeeze: GradientRule = {
  opType: 'Squeeze',
  emit(c) {
    c.dx(0, c.emit.reshape(c.dy(0), c.shape(c.x(0))));
  },
};
