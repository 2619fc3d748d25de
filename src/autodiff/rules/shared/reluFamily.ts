// Shared ReLU-family backward: vanilla dY·mask, deconvnet relu(dY), guided dY·mask·[dY > 0].
import type { RuleContext } from '../../rule.js';

/** `pass` is the boolean mask where the forward op passes its input through (f'(x) = 1). */
export function reluFamilyBackward(c: RuleContext, pass: string, dy: string): string {
  const e = c.emit;
  const zero = e.scalar(0);
  switch (c.reluRule) {
    case 'deconvnet':
      return e.op('Relu', [dy]);
    case 'guided':
      return e.where(pass, e.op('Relu', [dy]), zero);
    default:
      return e.where(pass, dy, zero);
  }
}
