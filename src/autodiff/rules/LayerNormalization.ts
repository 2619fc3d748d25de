// Y = x̂·γ + β over axes ≥ axis: dX = r·(g − mean(g) − x̂·mean(g·x̂)), g = dY·γ; dγ = Σ dY·x̂; dβ = Σ dY
import type { GradientRule } from '../rule.js';
import { normalizeBackward, normalizeForward } from './shared/normalize.js';

export const LayerNormalization: GradientRule = {
  opType: 'LayerNormalization',
  emit(c) {
    const e = c.emit;
    const xs = c.shape(c.x(0));
    const rank = xs.length;
    const axis = (c.int('axis', -1) + rank) % rank;
    const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
    if (c.node.outputs.slice(1).some((o, i) => o && c.hasDy(i + 1))) {
      throw c.unsupported('gradients through the Mean / InvStdDev outputs are not supported');
    }
    const n = normalizeForward(c, axes, c.float('epsilon', 1e-5));
    const dy = c.dy(0);
    if (c.needsDx(0)) c.dx(0, normalizeBackward(c, n, e.mul(dy, c.x(1)), axes));
    if (c.needsDx(1)) c.dxBroadcast(1, e.mul(dy, n.xhat), xs);
    if (c.hasInput(2) && c.needsDx(2)) c.dxBroadcast(2, dy, xs);
  },
};
