// dX = Concat(dY₀, dY₁, …) along the split axis (zeros for outputs nothing flows into)
import type { GradientRule } from '../rule.js';

export const Split: GradientRule = {
  opType: 'Split',
  emit(c) {
    const rank = c.shape(c.x(0)).length;
    const axis = (c.int('axis', 0) + rank) % rank;
    const parts = c.node.outputs.map((o, i) => (o ? c.dy(i) : ''));
    if (parts.some((p) => !p)) throw c.unsupported('an unnamed Split output cannot be given a zero gradient');
    c.dx(0, c.emit.concat(parts, axis));
  },
};
