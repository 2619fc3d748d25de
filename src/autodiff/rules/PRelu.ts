// dX = dY · (X > 0 ? 1 : slope); dSlope = Σ_broadcast dY · X · [X ≤ 0]
import type { GradientRule } from '../rule.js';

export const PRelu: GradientRule = {
  opType: 'PRelu',
  emit(c) {
    const e = c.emit;
    const dy = c.dy(0);
    const pos = e.op('Greater', [c.x(0), e.scalar(0)]);
    if (c.needsDx(0)) {
      const grad = e.where(pos, dy, e.mul(dy, c.x(1)));
      c.dxBroadcast(0, grad, c.shape(c.y(0)));
    }
    if (c.needsDx(1)) {
      c.dxBroadcast(1, e.where(pos, e.scalar(0), e.mul(dy, c.x(0))), c.shape(c.y(0)));
    }
  },
};
