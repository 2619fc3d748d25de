// dX = Pad(zero-insert(flip?(dY))): dY's elements go back to positions q0, q0 + |step|, … of each
// sliced axis (reversed first for negative steps), zeros elsewhere
import { toNumbers } from '../../onnx/tensor.js';
import type { GradientRule } from '../rule.js';

export const Slice: GradientRule = {
  opType: 'Slice',
  emit(c) {
    const e = c.emit;
    const [xs, ys] = [c.shape(c.x(0)), c.shape(c.y(0))];
    const rank = xs.length;
    const read = (i: number, attr: string): number[] | undefined => {
      if (c.opset < 10) return c.node.attrs[attr] ? c.ints(attr, []) : undefined;
      if (!c.hasInput(i)) return undefined;
      const t = c.constant(c.x(i));
      if (!t) throw c.unsupported(`input "${c.x(i)}" (${attr}) must be constant`);
      return toNumbers(t);
    };
    const starts = read(1, 'starts')!;
    const axes = read(3, 'axes') ?? starts.map((_, i) => i);
    const steps = read(4, 'steps') ?? starts.map(() => 1);
    const pads = new Array<number>(2 * rank).fill(0);
    const flips: number[] = [];
    const strided: { axis: number; step: number }[] = [];
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    axes.forEach((a0, k) => {
      const a = (a0 + rank) % rank;
      const [dim, count, step] = [xs[a], ys[a], steps[k]];
      if (step === 0) throw c.unsupported(`step 0 on axis ${a}`);
      const start = starts[k] < 0 ? starts[k] + dim : starts[k];
      const stride = Math.abs(step);
      // First position (ascending) that the slice reads; the output's length fixes the last.
      const first = step > 0 ? clamp(start, 0, dim) : clamp(start, 0, dim - 1) - (count - 1) * stride;
      if (step < 0) flips.push(a);
      if (stride > 1) strided.push({ axis: a, step: stride });
      pads[a] = count === 0 ? 0 : first;
      pads[a + rank] = dim - pads[a] - (count === 0 ? 0 : (count - 1) * stride + 1);
    });
    let g = flips.length ? e.flip(c.dy(0), flips) : c.dy(0);
    const dims = [...ys];
    for (const { axis, step } of strided) {
      // Zero insertion: [… n …] → [… n, 1 …] → pad to [… n, step …] → [… n·step …] → keep (n−1)·step + 1.
      const n = dims[axis];
      const split = [...dims.slice(0, axis + 1), 1, ...dims.slice(axis + 1)];
      const padded = e.pad(
        e.reshape(g, split),
        split.map(() => 0).concat(split.map((_, i) => (i === axis + 1 ? step - 1 : 0))),
      );
      dims[axis] = n * step;
      g = e.reshape(padded, dims);
      g = e.slice(g, [0], [(n - 1) * step + 1], [axis]);
      dims[axis] = (n - 1) * step + 1;
    }
    c.dx(0, e.pad(g, pads));
  },
};
