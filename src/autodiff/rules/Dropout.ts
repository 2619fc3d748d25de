// Inference: Y = X, so dX = dY (training-mode Dropout is refused: its mask is random)
import { toNumbers } from '../../onnx/tensor.js';
import type { GradientRule } from '../rule.js';

export const Dropout: GradientRule = {
  opType: 'Dropout',
  emit(c) {
    const training = c.hasInput(2) ? c.constant(c.x(2)) : undefined;
    if (c.hasInput(2) && (!training || toNumbers(training)[0] !== 0)) {
      throw c.unsupported('training_mode must be a constant false; convlens differentiates inference graphs');
    }
    c.dx(0, c.dy(0));
  },
};
