// dXᵢ = Slice(dY, offsetᵢ : offsetᵢ + sizeᵢ, axis)
import type { GradientRule } from '../rule.js';

export const Concat: GradientRule = {
  opType: 'Concat',
  emit(c) {
    const rank = c.shape(c.y(0)).length;
    const axis = (c.int('axis', 0) + rank) % rank;
    let offset = 0;
    for (let i = 0; i < c.node.inputs.length; i++) {
      const size = c.shape(c.x(i))[axis];
      if (c.needsDx(i)) c.dx(i, c.emit.slice(c.dy(0), [offset], [offset + size], [axis]));
      offset += size;
    }
  },
};
