// Steps ±1: dX = Pad(dY) with zeros outside the slice (reversed first for step −1)
import { toNumbers } from '../../onnx/tensor.js';
import type { GradientRule } from '../rule.js';

export const Slice: GradientRule = {
  opType: 'Slice',
  emit(c) {
    const e = c.emit;
    const xs = c.shape(c.x(0));
    const rank = xs.length;
    const read = (i: number, attr: string): number[] | undefined => {
      if (c.opset < 10) return c.node.attrs[attr] ? c.ints(attr, []) : undefined;
      if (!c.hasInput(i)) return undefined;
      const t = c.constant(c.x(i));
      if (!t) throw c.unsupported(`input "${c.x(i)}" (${attr}) must be constant`);
      return toNumbers(t);
    };
    const starts = read(1, 'starts')!;
    const ends = read(2, 'ends')!;
    const axes = read(3, 'axes') ?? starts.map((_, i) => i);
    const steps = read(4, 'steps') ?? starts.map(() => 1);
    const pads = new Array<number>(2 * rank).fill(0);
    const flips: number[] = [];
    axes.forEach((a0, k) => {
      const a = (a0 + rank) % rank;
      const dim = xs[a];
      const step = steps[k];
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
      if (step === 1) {
        const s = clamp(starts[k] < 0 ? starts[k] + dim : starts[k], 0, dim);
        const en = clamp(ends[k] < 0 ? ends[k] + dim : ends[k], 0, dim);
        pads[a] = s;
        pads[a + rank] = dim - Math.max(en, s);
      } else if (step === -1) {
        const s = clamp(starts[k] < 0 ? starts[k] + dim : starts[k], -1, dim - 1);
        const en = clamp(ends[k] < 0 ? ends[k] + dim : ends[k], -1, dim - 1);
        // Elements s, s−1, …, en+1: after reversing dY they start at en+1.
        pads[a] = en + 1;
        pads[a + rank] = dim - 1 - s;
        flips.push(a);
      } else {
        throw c.unsupported(`step ${step} on axis ${a} (only steps 1 and −1 are supported)`);
      }
    });
    const dy = flips.length ? e.flip(c.dy(0), flips) : c.dy(0);
    c.dx(0, e.pad(dy, pads));
  },
};
