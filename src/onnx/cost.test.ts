import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../runtime/node.js';
import { GraphBuilder } from './builder.js';
import { backwardMultiplyAccumulates, forwardMultiplyAccumulates } from './cost.js';
import { makeStatic } from './static.js';
import { float32 } from './tensor.js';

/**
 * x [2,3,8,8] → Conv 3→4 k3 'c1' [2,4,8,8]: 2·4·64·(3·9) = 13824
 *   → Relu → Conv 4→4 k3 stride 2 group 2 'c2' [2,4,4,4]: 2·4·16·(2·9) = 2304
 *   → ConvTranspose 4→2 k2 stride 2 't' [2,2,8,8]: |X| 128 · (2·4) = 1024
 *   → GlobalAveragePool → Flatten → Gemm 2→3 'logits' [2,3]: 2·3·2 = 12
 * c1 → GlobalAveragePool → Flatten [2,4] → MatMul [4,5] 'side' [2,5]: 2·5·4 = 40
 *   and → Transpose [4,2] → Gemm transA with [4,6] 'sideT' [2,6]: 2·6·4 = 48
 */
async function costModel() {
  const b = new GraphBuilder({ seed: 1 });
  const x = b.input('x', [2, 3, 8, 8]);
  const c1 = b.named(b.conv(x, { in: 3, out: 4, kernel: 3, pads: 1 }), 'c1');
  const c2 = b.named(b.conv(b.relu(c1), { in: 4, out: 4, kernel: 3, pads: 1, stride: 2, group: 2 }), 'c2');
  const t = b.named(b.convTranspose(c2, { in: 4, out: 2, kernel: 2, stride: 2 }), 't');
  const logits = b.named(b.gemm(b.flatten(b.globalAveragePool(t)), { in: 2, out: 3 }), 'logits');
  const pooled = b.flatten(b.globalAveragePool(c1));
  const side = b.named(b.op1('MatMul', [pooled, b.randn('m', [4, 5], 1)]), 'side');
  const transposed = b.op1('Transpose', [pooled], { perm: [1, 0] });
  const sideT = b.named(
    b.op1('Gemm', [transposed, b.param('g', float32(new Float32Array(24), [4, 6]))], { transA: 1 }),
    'sideT',
  );
  return makeStatic(b.build([logits, side, sideT]), { x: [2, 3, 8, 8] }, nodeBackend());
}

describe('multiply-accumulates of a static graph', async () => {
  const s = await costModel();

  it.each([
    [['logits'], 13824 + 2304 + 1024 + 12],
    [['side'], 13824 + 40],
    [['sideT'], 13824 + 48],
    [['logits', 'side', 'sideT'], 13824 + 2304 + 1024 + 12 + 40 + 48],
    [['c1'], 13824],
  ])('forward to %j costs %i (only the nodes the outputs need)', (outputs, macs) => {
    expect(forwardMultiplyAccumulates(s, outputs)).toBe(macs);
  });

  it.each([
    [['x'], ['logits'], 13824 + 2304 + 1024 + 12],
    [['c2'], ['logits'], 1024 + 12],
    [['x'], ['side'], 13824 + 40],
    [['t'], ['side'], 0],
    [['x'], ['logits', 'sideT'], 13824 + 2304 + 1024 + 12 + 48],
  ])('backward from %j to %j costs %i (the products on a path between them)', (wrt, objective, macs) => {
    expect(backwardMultiplyAccumulates(s, wrt, objective)).toBe(macs);
  });
});
