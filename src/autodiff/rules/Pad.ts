// constant: dX = Pad(Slice(dY)) (undoing positive and negative pads);
// reflect / edge / wrap: Y = M ×_axis X per padded axis, M[o, src(o)] = 1, so dX = Mᵀ ×_axis dY (borders fold back)
import { toNumbers } from '../../onnx/tensor.js';
import type { GradientRule, RuleContext } from '../rule.js';
import { transposedAlongAxis } from './shared/axisMatrix.js';

const MODES = ['constant', 'reflect', 'edge', 'wrap'];

/** Source index in X of padded position o along an axis of size `dim` padded by `begin` in front. */
function source(mode: string, o: number, begin: number, dim: number): number {
  const j = o - begin;
  if (mode === 'edge') return Math.min(Math.max(j, 0), dim - 1);
  if (mode === 'wrap') return ((j % dim) + dim) % dim;
  // reflect (the edge itself is not repeated): period 2·(dim − 1)
  if (dim === 1) return 0;
  const period = 2 * (dim - 1);
  const r = ((j % period) + period) % period;
  return r < dim ? r : period - r;
}

function readPads(c: RuleContext, rank: number): { begin: number[]; end: number[] } {
  let pads: number[];
  let axes = Array.from({ length: rank }, (_, i) => i);
  if (c.opset < 11) pads = c.ints('pads', []);
  else {
    const t = c.constant(c.x(1));
    if (!t) throw c.unsupported(`pads input "${c.x(1)}" must be constant`);
    pads = toNumbers(t);
    if (c.hasInput(3)) {
      const at = c.constant(c.x(3));
      if (!at) throw c.unsupported(`axes input "${c.x(3)}" must be constant`);
      axes = toNumbers(at).map((a) => (a + rank) % rank);
    }
  }
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  axes.forEach((a, k) => {
    begin[a] = pads[k];
    end[a] = pads[k + axes.length];
  });
  return { begin, end };
}

export const Pad: GradientRule = {
  opType: 'Pad',
  emit(c) {
    const mode = c.string('mode', 'constant');
    if (!MODES.includes(mode)) throw c.unsupported(`mode "${mode}" (supported: ${MODES.join(', ')})`);
    const e = c.emit;
    const xs = c.shape(c.x(0));
    const rank = xs.length;
    const { begin, end } = readPads(c, rank);
    const all = xs.map((_, i) => i);
    if (mode === 'constant') {
      // Positive pads are sliced away; negative pads (crops) come back as zeros.
      const from = begin.map((b) => Math.max(b, 0));
      const kept = xs.map((d, i) => d - Math.max(-begin[i], 0) - Math.max(-end[i], 0));
      const inner = e.slice(
        c.dy(0),
        from,
        from.map((f, i) => f + kept[i]),
        all,
      );
      c.dx(0, e.pad(inner, [...begin.map((b) => Math.max(-b, 0)), ...end.map((p) => Math.max(-p, 0))]));
      return;
    }
    let grad = c.dy(0);
    for (const axis of all) {
      if (begin[axis] === 0 && end[axis] === 0) continue;
      const dim = xs[axis];
      const out = dim + begin[axis] + end[axis];
      const m = new Float32Array(out * dim);
      for (let o = 0; o < out; o++) m[o * dim + source(mode, o, begin[axis], dim)] += 1;
      grad = transposedAlongAxis(e, grad, axis, rank, m, out, dim);
    }
    c.dx(0, grad);
  },
};
