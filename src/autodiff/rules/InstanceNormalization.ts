// Y = x̂·γ_c + β_c over spatial axes: dX = r·(g − mean(g) − x̂·mean(g·x̂)), g = dY·γ; dγ = Σ dY·x̂; dβ = Σ dY
import type { GradientRule } from '../rule.js';
import { normalizeBackward, normalizeForward } from './shared/normalize.js';

export const InstanceNormalization: GradientRule = {
  opType: 'InstanceNormalization',
  emit(c) {
    const e = c.emit;
    const xs = c.shape(c.x(0));
    const axes = xs.map((_, i) => i).slice(2);
    const perChannel = [xs[1], ...axes.map(() => 1)];
    const n = normalizeForward(c, axes, c.float('epsilon', 1e-5));
    const dy = c.dy(0);
    if (c.needsDx(0)) c.dx(0, normalizeBackward(c, n, e.mul(dy, e.reshape(c.x(1), perChannel)), axes));
    const others = [0, ...axes];
    if (c.needsDx(1)) c.dx(1, e.reduceSum(e.mul(dy, n.xhat), others, false));
    if (c.needsDx(2)) c.dx(2, e.reduceSum(dy, others, false));
  },
};
