import { describe, expect, it } from 'vitest';
import { checkGradients } from '../autodiff/gradcheck.js';
import { nodeBackend } from '../runtime/node.js';
import { smallFamilies } from './families.js';

// Each rule is pinned to ~1e-4 by the rule table; these tests check composition (branches,
// accumulation, folding, BN, residuals) on whole networks. In float32 a random direction's
// derivative (≈ ‖g‖/√n) sits near the rounding noise of f, so random directions get a loose bound
// (which still catches dropped branches, sign and scale errors, all O(1)) and the direction along
// the gradient, whose derivative is ‖g‖, a tight one.
describe('whole-model gradients match finite differences', () => {
  it.each(smallFamilies().map((f) => [f.name, f] as const))(
    '%s: input, first conv weight, classifier weight',
    async (_, f) => {
      const g = f.model.graph;
      const firstConvWeight = g.nodes.find((n) => n.opType === 'Conv')!.inputs[1];
      const classifierWeight = g.nodes.filter((n) => n.opType === 'Gemm').at(-1)!.inputs[1];
      const result = await checkGradients(f.model, nodeBackend(), {
        inputShapes: f.inputShape,
        wrt: ['input', firstConvWeight, classifierWeight],
        directions: 2,
        alongGradient: true,
        step: 0.005,
      });
      for (const c of result.checks) {
        const bound = c.direction === 'gradient' ? 1e-2 : 0.15;
        expect(
          c.relativeError,
          `${c.wrt} (${c.direction}): analytic ${c.analytic} vs numeric ${c.numeric}`,
        ).toBeLessThan(bound);
      }
    },
  );
});
