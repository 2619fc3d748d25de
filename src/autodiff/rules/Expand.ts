// Y = broadcast(X): dX = Σ over broadcast axes of dY
import type { GradientRule } from '../rule.js';

export const Expand: GradientRule = {
  opType: 'Expand',
  emit(c) {
    c.dxBroadcast(0, c.dy(0), c.shape(c.y(0)));
  },
};
