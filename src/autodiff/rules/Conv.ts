// dX = Conv(dY, flip(Wᵀ per group)) at stride 1, else ConvTranspose(dY, W); dW = Conv(Xᵀ, dYᵀ); dB = Σ_{n,spatial} dY
import type { GradientRule } from '../rule.js';
import { convWeightGradient } from './shared/convWeightGradient.js';
import { range, slidingWindow, span, windowAttrs } from './shared/window.js';

export const Conv: GradientRule = {
  opType: 'Conv',
  emit(c) {
    const e = c.emit;
    const [xs, ws, ys] = [c.shape(c.x(0)), c.shape(c.x(1)), c.shape(c.y(0))];
    const r = xs.length - 2;
    const w = slidingWindow(c, ws.slice(2), xs.slice(2), ys.slice(2));
    const group = c.int('group', 1);
    const [n, cin] = xs;
    const m = ws[0];
    const spatial = range(2, 2 + r);
    const dy = c.dy(0);
    if (c.needsDx(0)) {
      const before = w.kernel.map((k, i) => (k - 1) * w.dilations[i] - w.padsBegin[i]);
      const after = w.kernel.map((k, i) => (k - 1) * w.dilations[i] - w.padsEnd[i]);
      const unitStride = w.strides.every((s) => s === 1) && [...before, ...after].every((p) => p >= 0);
      if (unitStride) {
        // A plain Conv with the per-group transposed, spatially flipped weight: onnxruntime folds
        // the weight transform at load and runs its fast Conv kernels.
        const grouped = e.reshape(c.x(1), [group, m / group, cin / group, ...w.kernel]);
        const swapped = e.transpose(grouped, [0, 2, 1, ...range(3, 3 + r)]);
        const flipped = e.flip(e.reshape(swapped, [cin, m / group, ...w.kernel]), spatial);
        c.dx(0, e.op('Conv', [dy, flipped], { group, dilations: w.dilations, pads: [...before, ...after] }));
      } else {
        const outputPadding = w.input.map((x, i) => x + w.padsBegin[i] + w.padsEnd[i] - span(w, i));
        c.dx(
          0,
          e.op('ConvTranspose', [dy, c.x(1)], { group, ...windowAttrs(w), output_padding: outputPadding }),
        );
      }
    }
    if (c.needsDx(1)) c.dx(1, convWeightGradient(c, c.x(0), dy, w, group, [n, cin, ...w.input], ws));
    if (c.hasInput(2) && c.needsDx(2)) c.dx(2, e.reduceSum(dy, [0, ...spatial], false));
  },
};
