// dX = dY · [Y > 0]   (deconvnet: relu(dY); guided: dY · [Y > 0] · [dY > 0])
import type { GradientRule } from '../rule.js';
import { reluFamilyBackward } from './shared/reluFamily.js';

export const Relu: GradientRule = {
  opType: 'Relu',
  emit(c) {
    if (!c.needsDx(0)) return;
    const e = c.emit;
    const zero = e.scalar(0);
    // Mask from the output, so onnxruntime keeps fusing Conv+Relu in the forward pass.
    c.dx(0, reluFamilyBackward(c, e.op('Greater', [c.y(0), zero]), c.dy(0)));
  },
};
