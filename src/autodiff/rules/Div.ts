// Y = A / B: dA = dY / B, dB = −dY · Y / B
import type { GradientRule } from '../rule.js';

export const Div: GradientRule = {
  opType: 'Div',
  emit(c) {
    const e = c.emit;
    const out = c.shape(c.y(0));
    const da = e.div(c.dy(0), c.x(1));
    if (c.needsDx(0)) c.dxBroadcast(0, da, out);
    if (c.needsDx(1)) c.dxBroadcast(1, e.neg(e.mul(da, c.y(0))), out);
  },
};
