// Shared backward of x̂ = (x − μ)·r, r = 1/√(σ² + ε), statistics over `axes`:
// dX = r · (g − mean(g) − x̂ · mean(g · x̂)), with g = dL/dx̂.
import type { RuleContext } from '../../rule.js';

export interface Normalized {
  /** x̂, recomputed in the backward graph. */
  xhat: string;
  /** r = 1/√(σ² + ε) with the reduced axes kept. */
  rstd: string;
}

export function normalizeForward(c: RuleContext, axes: number[], epsilon: number): Normalized {
  const e = c.emit;
  const x = c.x(0);
  const centred = e.sub(x, e.reduceMean(x, axes, true));
  const variance = e.reduceMean(e.mul(centred, centred), axes, true);
  const rstd = e.op('Reciprocal', [e.op('Sqrt', [e.add(variance, e.scalar(epsilon))])]);
  return { xhat: e.mul(centred, rstd), rstd };
}

export function normalizeBackward(c: RuleContext, n: Normalized, g: string, axes: number[]): string {
  const e = c.emit;
  const meanG = e.reduceMean(g, axes, true);
  const meanGx = e.reduceMean(e.mul(g, n.xhat), axes, true);
  return e.mul(n.rstd, e.sub(e.sub(g, meanG), e.mul(n.xhat, meanGx)));
}
