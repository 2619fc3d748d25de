// Axes of ReduceSum/ReduceMean/ReduceMax from attribute or input, per opset.
import { toNumbers } from '../../../onnx/tensor.js';
import type { RuleContext } from '../../rule.js';

/** The reduced axes (normalised, sorted) and the keepdims shape of the output. */
export function reduceAxes(c: RuleContext, inputAxesSince: number): { axes: number[]; keptShape: number[] } {
  const xs = c.shape(c.x(0));
  const rank = xs.length;
  let axes: number[] | undefined;
  if (c.opset >= inputAxesSince) {
    if (c.hasInput(1)) {
      const t = c.constant(c.x(1));
      if (!t) throw c.unsupported(`axes input "${c.x(1)}" must be constant`);
      axes = toNumbers(t);
    }
  } else if (c.node.attrs['axes']) axes = c.ints('axes', []);
  if (!axes || axes.length === 0) {
    axes = c.int('noop_with_empty_axes', 0) ? [] : xs.map((_, i) => i);
  }
  const norm = [...new Set(axes.map((a) => (a + rank) % rank))].sort((a, b) => a - b);
  return { axes: norm, keptShape: xs.map((d, i) => (norm.includes(i) ? 1 : d)) };
}
