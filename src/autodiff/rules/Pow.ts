// Y = A^B: dA = dY · B · A^(B−1); dB = dY · Y · ln A
import type { GradientRule } from '../rule.js';

export const Pow: GradientRule = {
  opType: 'Pow',
  emit(c) {
    const e = c.emit;
    const [a, b] = [c.x(0), c.x(1)];
    const out = c.shape(c.y(0));
    const dy = c.dy(0);
    if (c.needsDx(0)) {
      const da = e.mul(dy, e.mul(b, e.op('Pow', [a, e.sub(b, e.scalar(1))])));
      c.dxBroadcast(0, da, out);
    }
    if (c.needsDx(1)) c.dxBroadcast(1, e.mul(dy, e.mul(c.y(0), e.op('Log', [a]))), out);
  },
};
