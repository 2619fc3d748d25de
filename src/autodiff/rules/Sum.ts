// Y = Σ Xᵢ: dXᵢ = dY (each reduced over its broadcast axes)
import type { GradientRule } from '../rule.js';

export const Sum: GradientRule = {
  opType: 'Sum',
  emit(c) {
    const out = c.shape(c.y(0));
    for (let i = 0; i < c.node.inputs.length; i++) c.dxBroadcast(i, c.dy(0), out);
  },
};
