// Shared by ReduceMax and GlobalMaxPool: dX = dY · [X = max] / (number of maxima), ties share equally.
import type { RuleContext } from '../../rule.js';

export function maxBackward(c: RuleContext, axes: number[], keptShape: number[]): string {
  const e = c.emit;
  const max = e.reshape(c.y(0), keptShape);
  const hit = e.toFloat(e.op('Equal', [c.x(0), max]));
  const ties = e.reduceSum(hit, axes, true);
  return e.mul(hit, e.div(e.reshape(c.dy(0), keptShape), ties));
}
