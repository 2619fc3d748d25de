// Y = X · hardsigmoid(X; 1/6, 1/2): dX = dY · (X ≤ −3 ? 0 : X ≥ 3 ? 1 : X/3 + 1/2)
import type { GradientRule } from '../rule.js';

export const HardSwish: GradientRule = {
  opType: 'HardSwish',
  emit(c) {
    const e = c.emit;
    const x = c.x(0);
    const inner = e.add(e.mul(x, e.scalar(1 / 3)), e.scalar(0.5));
    const slope = e.where(
      e.op('Less', [x, e.scalar(-3)]),
      e.scalar(0),
      e.where(e.op('Greater', [x, e.scalar(3)]), e.scalar(1), inner),
    );
    c.dx(0, e.mul(c.dy(0), slope));
  },
};
