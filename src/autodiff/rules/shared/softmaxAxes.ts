// Softmax/LogSoftmax normalise over one axis from opset 13, over all axes ≥ axis before it.
import type { RuleContext } from '../../rule.js';

export function softmaxAxes(c: RuleContext): number[] {
  const rank = c.shape(c.x(0)).length;
  const axis = (c.int('axis', c.opset >= 13 ? -1 : 1) + rank) % rank;
  if (c.opset >= 13) return [axis];
  return Array.from({ length: rank - axis }, (_, i) => axis + i);
}
