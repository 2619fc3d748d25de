// dA = dY, dB = −dY
import type { GradientRule } from '../rule.js';

export const Sub: GradientRule = {
  opType: 'Sub',
  emit(c) {
    const out = c.shape(c.y(0));
    c.dxBroadcast(0, c.dy(0), out);
    if (c.needsDx(1)) c.dxBroadcast(1, c.emit.neg(c.dy(0)), out);
  },
};
