// Constant mode: dX = Slice(dY, pads_begin : pads_begin + shape(X))
import { toNumbers } from '../../onnx/tensor.js';
import type { GradientRule } from '../rule.js';

export const Pad: GradientRule = {
  opType: 'Pad',
  emit(c) {
    const mode = c.string('mode', 'constant');
    if (mode !== 'constant') throw c.unsupported(`mode "${mode}" (only "constant" is supported)`);
    const xs = c.shape(c.x(0));
    const rank = xs.length;
    let pads: number[];
    let axes = xs.map((_, i) => i);
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
    axes.forEach((a, k) => {
      begin[a] = pads[k];
    });
    if (pads.some((p) => p < 0)) throw c.unsupported('negative pads are not supported');
    const all = xs.map((_, i) => i);
    c.dx(
      0,
      c.emit.slice(
        c.dy(0),
        begin,
        begin.map((b, i) => b + xs[i]),
        all,
      ),
    );
  },
};
