// dX = dY · (X > 0 ? 1 : α)   (deconvnet: leaky_relu(dY); guided: that · [dY > 0])
import type { GradientRule } from '../rule.js';

export const LeakyRelu: GradientRule = {
  opType: 'LeakyRelu',
  followsReluRule: true,
  emit(c) {
    if (!c.needsDx(0)) return;
    const e = c.emit;
    const alpha = e.scalar(c.float('alpha', 0.01));
    const dy = c.dy(0);
    if (c.reluRule === 'deconvnet') {
      c.dx(0, e.op('LeakyRelu', [dy], { alpha: c.float('alpha', 0.01) }));
      return;
    }
    // Y > 0 exactly where X > 0 for α ≥ 0.
    const grad = e.where(e.op('Greater', [c.y(0), e.scalar(0)]), dy, e.mul(dy, alpha));
    c.dx(0, c.reluRule === 'guided' ? e.op('Relu', [grad]) : grad);
  },
};
