// float → float: dX = dY (casts to or from other types carry no gradient)
import type { GradientRule } from '../rule.js';

export const Cast: GradientRule = {
  opType: 'Cast',
  emit(c) {
    c.dx(0, c.dy(0));
  },
};
