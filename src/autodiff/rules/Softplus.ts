// Y = ln(1 + eˣ): dX = dY · σ(X)
import type { GradientRule } from '../rule.js';

export const Softplus: GradientRule = {
  opType: 'Softplus',
  emit(c) {
    c.dx(0, c.emit.mul(c.dy(0), c.emit.op('Sigmoid', [c.x(0)])));
  },
};
