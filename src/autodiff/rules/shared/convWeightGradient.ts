// dW[m, c, i] = Σ_{n,p} dY[n, m, p] · X[n, c, p·s + i·d − pad], computed as one Conv that swaps the
// roles of batch and channels (and of stride and dilation), then cropped to the kernel size.
import type { RuleContext } from '../../rule.js';
import { range, type Window, windowAttrs } from './window.js';

export function convWeightGradient(
  c: RuleContext,
  x: string,
  dy: string,
  w: Window,
  group: number,
  xShape: number[],
  wShape: number[],
): string {
  const e = c.emit;
  const r = w.kernel.length;
  const [n, cin] = xShape;
  const rest = range(3, 3 + r);
  // Input: [C/g, g·N, spatial], channel (gi, n) holding X[n, gi·C/g + c'].
  const input =
    group === 1
      ? e.transpose(x, [1, 0, ...range(2, 2 + r)])
      : e.reshape(e.transpose(e.reshape(x, [n, group, cin / group, ...w.input]), [2, 1, 0, ...rest]), [
          cin / group,
          group * n,
          ...w.input,
        ]);
  // Weight: [M, N, output spatial].
  const kernel = e.transpose(dy, [1, 0, ...range(2, 2 + r)]);
  const out = e.op('Conv', [input, kernel], { group, ...windowAttrs(w, true) });
  const grad = e.transpose(out, [1, 0, ...range(2, 2 + r)]);
  return e.slice(grad, new Array(r).fill(0), wShape.slice(2), range(2, 2 + r));
}
