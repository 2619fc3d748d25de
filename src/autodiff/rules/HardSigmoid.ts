// dX = dY · α · [0 < αX + β < 1]
import type { GradientRule } from '../rule.js';

export const HardSigmoid: GradientRule = {
  opType: 'HardSigmoid',
  emit(c) {
    const e = c.emit;
    const alpha = c.float('alpha', 0.2);
    const beta = c.float('beta', 0.5);
    const z = e.add(e.mul(c.x(0), e.scalar(alpha)), e.scalar(beta));
    const pass = e.op('And', [e.op('Greater', [z, e.scalar(0)]), e.op('Less', [z, e.scalar(1)])]);
    c.dx(0, e.where(pass, e.mul(c.dy(0), e.scalar(alpha)), e.scalar(0)));
  },
};
