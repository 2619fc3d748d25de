// dA = dY, dB = dY (reduced over broadcast axes by the engine)
import type { GradientRule } from '../rule.js';

export const Add: GradientRule = {
  opType: 'Add',
  emit(c) {
    const out = c.shape(c.y(0));
    c.dxBroadcast(0, c.dy(0), out);
    c.dxBroadcast(1, c.dy(0), out);
  },
};
