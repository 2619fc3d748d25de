// dX = Conv(dY, W; same strides, pads, dilations, group); dW[c, m, i] = Σ X[n, c, p]·dY[n, m, p·s + i·d − pad]; dB = Σ dY
import type { GradientRule } from '../rule.js';
import { convWeightGradient } from './shared/convWeightGradient.js';
import { range, slidingWindow, windowAttrs } from './shared/window.js';

export const ConvTranspose: GradientRule = {
  opType: 'ConvTranspose',
  emit(c) {
    const e = c.emit;
    const [xs, ws, ys] = [c.shape(c.x(0)), c.shape(c.x(1)), c.shape(c.y(0))];
    const r = xs.length - 2;
    if (c.node.attrs['output_shape'] || c.string('auto_pad', 'NOTSET') !== 'NOTSET') {
      throw c.unsupported('output_shape and auto_pad are not supported; give explicit pads');
    }
    // The transposed conv's window runs over its output: geometry as a Conv from Y to X.
    const w = slidingWindow(c, ws.slice(2), ys.slice(2), xs.slice(2));
    const group = c.int('group', 1);
    const dy = c.dy(0);
    if (c.needsDx(0)) c.dx(0, e.op('Conv', [dy, c.x(1)], { group, ...windowAttrs(w) }));
    // The weight gradient is Conv's with the roles of input and output gradient swapped.
    if (c.needsDx(1)) c.dx(1, convWeightGradient(c, dy, c.x(0), w, group, ys, ws));
    if (c.hasInput(2) && c.needsDx(2)) c.dx(2, e.reduceSum(dy, [0, ...range(2, 2 + r)], false));
  },
};
