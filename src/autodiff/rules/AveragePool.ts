// dX[p] = Σ_windows ∋ p dY[w] / count(w): dY scaled per window, scattered by a depthwise ConvTranspose of ones
import { elementCount } from '../../onnx/tensor.js';
import type { GradientRule } from '../rule.js';
import { scatterToInput } from './shared/poolScatter.js';
import { slidingWindow, type Window } from './shared/window.js';

/** Per-axis divisor of each output position (the divisor factorises over axes). */
function divisors(w: Window, includePad: boolean, axis: number): number[] {
  const lo = includePad ? -w.padsBegin[axis] : 0;
  const hi = includePad ? w.input[axis] + w.padsEnd[axis] : w.input[axis];
  return Array.from({ length: w.output[axis] }, (_, o) => {
    let count = 0;
    for (let j = 0; j < w.kernel[axis]; j++) {
      const p = o * w.strides[axis] + j * w.dilations[axis] - w.padsBegin[axis];
      if (p >= lo && p < hi) count++;
    }
    return count;
  });
}

export const AveragePool: GradientRule = {
  opType: 'AveragePool',
  emit(c) {
    if (!c.needsDx(0)) return;
    const e = c.emit;
    const [xs, ys] = [c.shape(c.x(0)), c.shape(c.y(0))];
    const kernel = c.ints('kernel_shape', []);
    const w = slidingWindow(c, kernel, xs.slice(2), ys.slice(2));
    const ch = xs[1];
    const includePad = c.int('count_include_pad', 0) === 1;
    const perAxis = kernel.map((_, i) => divisors(w, includePad, i));
    const size = elementCount(w.output);
    const inv = new Float32Array(size);
    for (let flat = 0; flat < size; flat++) {
      let rem = flat;
      let count = 1;
      for (let i = w.output.length - 1; i >= 0; i--) {
        count *= perAxis[i][rem % w.output[i]];
        rem = Math.floor(rem / w.output[i]);
      }
      inv[flat] = 1 / count;
    }
    const uniform = inv.every((v) => v === inv[0]);
    const scale = uniform
      ? e.scalar(inv[0])
      : e.constant({ dtype: 'float32', dims: [1, 1, ...w.output], data: inv });
    const ones = e.constant({
      dtype: 'float32',
      dims: [ch, 1, ...kernel],
      data: new Float32Array(ch * elementCount(kernel)).fill(1),
    });
    c.dx(0, scatterToInput(c, e.mul(c.dy(0), scale), ones, w, ch));
  },
};
