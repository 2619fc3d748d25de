// dX = dY · [min < Y < max]   (ReLU6 and other Clip(0, m) follow the ReLU rule option)
import { toNumbers } from '../../onnx/tensor.js';
import type { GradientRule } from '../rule.js';
import { belowMask, positiveMask, reluFamilyBackward } from './shared/reluFamily.js';

export const Clip: GradientRule = {
  opType: 'Clip',
  followsReluRule: true,
  emit(c) {
    if (!c.needsDx(0)) return;
    const e = c.emit;
    const bound = (i: number, attr: string, d: number): number | undefined => {
      if (c.opset < 11) return c.float(attr, d);
      if (!c.hasInput(i)) return d;
      const t = c.constant(c.x(i));
      if (!t) throw c.unsupported(`Clip ${attr} must be a constant for its gradient (input "${c.x(i)}")`);
      return toNumbers(t)[0];
    };
    const lo = bound(1, 'min', -Infinity)!;
    const hi = bound(2, 'max', Infinity)!;
    const y = c.y(0);
    const dy = c.dy(0);
    // Clip(0, m) is a ReLU with a ceiling (ReLU6): the ReLU rule option applies, with float masks.
    const below = lo === 0 && hi > 0 && Number.isFinite(hi) ? belowMask(c, y, hi) : undefined;
    if (lo === 0 && (hi === Infinity || below)) {
      const mask = below ? e.mul(positiveMask(c, y), below) : positiveMask(c, y);
      c.dx(0, reluFamilyBackward(c, mask, dy));
      return;
    }
    const conds: string[] = [];
    if (Number.isFinite(lo)) conds.push(e.op('Greater', [y, e.scalar(lo)]));
    if (Number.isFinite(hi)) conds.push(e.op('Less', [y, e.scalar(hi)]));
    if (conds.length === 0) {
      c.dx(0, dy);
      return;
    }
    const pass = conds.length === 1 ? conds[0] : e.op('And', conds);
    c.dx(0, lo === 0 ? reluFamilyBackward(c, e.toFloat(pass), dy) : e.where(pass, dy, e.scalar(0)));
  },
};
