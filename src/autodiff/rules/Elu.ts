// dX = dY · (X > 0 ? 1 : Y + α)
import type { GradientRule } from '../rule.js';

export const Elu: GradientRule = {
  opType: 'Elu',
  emit(c) {
    const e = c.emit;
    const dy = c.dy(0);
    const neg = e.mul(dy, e.add(c.y(0), e.scalar(c.float('alpha', 1))));
    c.dx(0, e.where(e.op('Greater', [c.x(0), e.scalar(0)]), dy, neg));
  },
};
