// dX = Transpose(dY, perm⁻¹)
import type { GradientRule } from '../rule.js';

export const Transpose: GradientRule = {
  opType: 'Transpose',
  emit(c) {
    const rank = c.shape(c.x(0)).length;
    const perm = c.ints(
      'perm',
      Array.from({ length: rank }, (_, i) => rank - 1 - i),
    );
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => {
      inverse[p] = i;
    });
    c.dx(0, c.emit.transpose(c.dy(0), inverse));
  },
};
