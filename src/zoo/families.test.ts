import { describe, expect, it } from 'vitest';
import { ANALYTIC_RELATIVE_ERROR, checkGradients } from '../autodiff/gradcheck.js';
import { nodeBackend } from '../runtime/node.js';
import { smallFamilies } from './families.js';

// Each rule is pinned by the rule table; these tests check composition (branches, accumulation,
// folding, BN, residuals, layout transposes) on whole networks. The finite differences run in
// float64 (Conv, GlobalAveragePool and Erf lowered to ops with double kernels), so neither float32
// rounding nor the ReLU kinks that a float32-sized step crosses blur them: the only error left is
// the float32 analytic gradient's own, measured at 1e-6 to 4e-6 and allowed ANALYTIC_RELATIVE_ERROR.
describe('whole-model gradients match float64 finite differences', () => {
  it.each(smallFamilies().map((f) => [f.name, f] as const))(
    '%s: input, first conv weight, classifier weight',
    async (_, f) => {
      const g = f.model.graph;
      const firstConvWeight = g.nodes.find((n) => n.opType === 'Conv')!.inputs[1];
      const classifierWeight = g.nodes.filter((n) => n.opType === 'Gemm' || n.opType === 'MatMul').at(-1)!
        .inputs[1];
      const result = await checkGradients(f.model, nodeBackend(), {
        inputShapes: f.inputShape,
        wrt: [f.model.graph.inputs[0].name, firstConvWeight, classifierWeight],
        directions: 2,
        alongGradient: true,
      });
      expect(result.precision).toBe('float64');
      for (const c of result.checks) {
        expect(
          c.relativeError,
          `${c.wrt} (${c.direction}): analytic ${c.analytic} vs numeric ${c.numeric}`,
        ).toBeLessThan(ANALYTIC_RELATIVE_ERROR);
      }
    },
  );
});
