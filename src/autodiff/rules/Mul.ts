// dA = dY · B, dB = dY · A
import type { GradientRule } from '../rule.js';

export const Mul: GradientRule = {
  opType: 'Mul',
  emit(c) {
    const out = c.shape(c.y(0));
    if (c.needsDx(0)) c.dxBroadcast(0, c.emit.mul(c.dy(0), c.x(1)), out);
    if (c.needsDx(1)) c.dxBroadcast(1, c.emit.mul(c.dy(0), c.x(0)), out);
  },
};
