// Shared ReLU-family backward: vanilla dY·mask, deconvnet relu(dY), guided relu(dY)·mask.
import type { RuleContext } from '../../rule.js';

/**
 * `mask` is a float 1 where the forward op passes its input through (f'(x) = 1) and 0 elsewhere.
 * Multiplying (not Where) keeps onnxruntime's blocked layout; masked entries are dY·0, so −0 where
 * dY < 0 (equal to 0) and NaN where dY is infinite.
 */
export function reluFamilyBackward(c: RuleContext, mask: string, dy: string): string {
  const e = c.emit;
  switch (c.reluRule) {
    case 'deconvnet':
      return e.op('Relu', [dy]);
    case 'guided':
      return e.mul(e.op('Relu', [dy]), mask);
    default:
      return e.mul(dy, mask);
  }
}

/**
 * [y > 0] for y ≥ 0 as a float 0/1 tensor: HardSigmoid(2¹²⁶·y) = min(1, max(0, 2¹²⁶·y)) is 1 for every
 * normal positive float32 and 0 at 0. Element-wise unary and binary ops keep onnxruntime's blocked
 * (NCHWc) layout where Greater/Where would reorder to NCHW and back.
 */
export function positiveMask(c: RuleContext, y: string): string {
  return c.emit.op('HardSigmoid', [y], { alpha: 2 ** 126, beta: 0 });
}

/**
 * [y < hi] for 0 ≤ y ≤ hi (hi > 0) as a float 0/1 tensor: HardSigmoid(k·hi − k·y) with k a power of
 * two of at least 2 / (hi − the float32 below hi). Near hi (y ≥ hi/2) the difference is exact
 * (Sterbenz), so it is 0 at hi and ≥ 2 at the float just below; further down it is ≥ k·hi/2 ≫ 1.
 * Undefined when k would overflow float32.
 */
export function belowMask(c: RuleContext, y: string, hi: number): string | undefined {
  const below = new Float32Array([hi]);
  new Int32Array(below.buffer)[0] -= 1;
  const k = 2 ** Math.ceil(Math.log2(2 / (Math.fround(hi) - below[0])));
  // A ceiling so small that k overflows float32 (below about 1e-31) gets no float mask.
  if (!(k < 2 ** 127)) return undefined;
  return c.emit.op('HardSigmoid', [y], { alpha: -k, beta: k * Math.fround(hi) });
}
