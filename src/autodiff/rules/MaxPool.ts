// dX[p] = Σ_windows dY[w] · [p is the first maximum of window w]; windows gathered and scattered
// by one-hot depthwise convs (exact), first maximum chosen by ArgMax over the window offsets.
import { int64 } from '../../onnx/tensor.js';
import type { GradientRule } from '../rule.js';
import { oneHotKernel, scatterToInput, windowInput } from './shared/poolScatter.js';
import { range, slidingWindow } from './shared/window.js';

export const MaxPool: GradientRule = {
  opType: 'MaxPool',
  emit(c) {
    if (!c.needsDx(0)) return;
    const e = c.emit;
    const [xs, ys] = [c.shape(c.x(0)), c.shape(c.y(0))];
    const kernel = c.ints('kernel_shape', []);
    const w = slidingWindow(c, kernel, xs.slice(2), ys.slice(2));
    const [n, ch] = xs;
    const k = kernel.reduce((a, b) => a * b, 1);
    const onehot = e.constant(oneHotKernel(ch, kernel), 'onehot');
    // Padding must never win a window: a large negative (not −∞, which would make 0·pad NaN).
    const xp = windowInput(c, c.x(0), w, -3e38);
    const windows = e.op('Conv', [xp, onehot], { group: ch, strides: w.strides, dilations: w.dilations });
    const byOffset = e.reshape(windows, [n, ch, k, ...w.output]);
    const offsets = e.constant(int64(range(0, k), [1, 1, k, ...w.output.map(() => 1)]), 'offsets');
    // First maximum of each window: ArgMax returns the first index of the largest value.
    const first = e.toFloat(e.op('Equal', [e.op('ArgMax', [byOffset], { axis: 2, keepdims: 1 }), offsets]));
    const g = e.reshape(e.mul(first, e.reshape(c.dy(0), [n, ch, 1, ...w.output])), [n, ch * k, ...w.output]);
    c.dx(0, scatterToInput(c, g, onehot, w, ch));
  },
};
