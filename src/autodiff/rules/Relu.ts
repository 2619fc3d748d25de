// dX = dY · [Y > 0]   (deconvnet: relu(dY); guided: dY · [Y > 0] · [dY > 0])
import type { GradientRule } from '../rule.js';
import { positiveMask, reluFamilyBackward } from './shared/reluFamily.js';

export const Relu: GradientRule = {
  opType: 'Relu',
  followsReluRule: true,
  emit(c) {
    if (!c.needsDx(0)) return;
    // Mask from the output, so onnxruntime keeps fusing Conv+Relu in the forward pass.
    c.dx(0, reluFamilyBackward(c, positiveMask(c, c.y(0)), c.dy(0)));
  },
};
