// Inference: Y = (X − μ)·r·γ + β, r = 1/√(σ² + ε): dX = dY·γ·r; dγ = Σ dY·(X − μ)·r; dβ = Σ dY
import { toNumbers } from '../../onnx/tensor.js';
import type { GradientRule } from '../rule.js';

export const BatchNormalization: GradientRule = {
  opType: 'BatchNormalization',
  emit(c) {
    if (c.int('training_mode', 0) || c.node.outputs.filter(Boolean).length > 1) {
      throw c.unsupported(
        'training-mode BatchNormalization is not supported (export the model in eval mode)',
      );
    }
    if (c.opset < 9 && c.int('spatial', 1) !== 1) throw c.unsupported('spatial = 0 is not supported');
    const e = c.emit;
    const xs = c.shape(c.x(0));
    const perChannel = [xs[1], ...xs.slice(2).map(() => 1)];
    const eps = c.float('epsilon', 1e-5);
    const variance = c.constant(c.x(4));
    // r per channel: folded to a constant when the running variance is an initializer.
    const rstd = variance
      ? e.constant({
          dtype: 'float32',
          dims: perChannel,
          data: Float32Array.from(toNumbers(variance), (v) => 1 / Math.sqrt(v + eps)),
        })
      : e.reshape(e.op('Reciprocal', [e.op('Sqrt', [e.add(c.x(4), e.scalar(eps))])]), perChannel);
    const dy = c.dy(0);
    if (c.needsDx(0)) c.dx(0, e.mul(dy, e.mul(e.reshape(c.x(1), perChannel), rstd)));
    const others = [0, ...xs.map((_, i) => i).slice(2)];
    if (c.needsDx(1)) {
      const xhat = e.mul(e.sub(c.x(0), e.reshape(c.x(3), perChannel)), rstd);
      c.dx(1, e.reduceSum(e.mul(dy, xhat), others, false));
    }
    if (c.needsDx(2)) c.dx(2, e.reduceSum(dy, others, false));
    if (c.needsDx(3) || c.needsDx(4))
      throw c.unsupported('gradients of the running mean and variance are not supported');
  },
};
