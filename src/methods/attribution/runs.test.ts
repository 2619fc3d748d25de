import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../onnx/builder.js';
import { float32 } from '../../onnx/tensor.js';
import type { InferenceBackend } from '../../runtime/backend.js';
import { ConvlensModel } from '../../runtime/model.js';
import { nodeBackend } from '../../runtime/node.js';
import { Explainer, explain } from './index.js';
import type { Target } from './target.js';

/** onnxruntime-node sessions that count their runs. */
function countingBackend(): { backend: InferenceBackend; runs: () => number; reset: () => void } {
  let runs = 0;
  const inner = nodeBackend();
  const backend: InferenceBackend = {
    name: 'counting',
    availableProviders: inner.availableProviders,
    async createSession(model, options) {
      const s = await inner.createSession(model, options);
      return {
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: (feeds, outputs) => {
          runs++;
          return s.run(feeds, outputs);
        },
        release: () => s.release(),
      };
    },
  };
  return {
    backend,
    runs: () => runs,
    reset: () => {
      runs = 0;
    },
  };
}

describe('onnxruntime runs per explanation', () => {
  const counter = countingBackend();
  const b = new GraphBuilder({ seed: 2 });
  const x = b.input('x', ['n', 3, 8, 8]);
  const a = b.named(b.relu(b.conv(x, { in: 3, out: 4, kernel: 3, pads: 1 })), 'features');
  const logits = b.named(b.gemm(b.flatten(b.globalAveragePool(a)), { in: 4, out: 3 }), 'logits');
  const model = new ConvlensModel(b.build([logits]), counter.backend);
  afterAll(() => model.release());
  const input = float32(new Float32Array(2 * 3 * 64).fill(0.3), [2, 3, 8, 8]);

  /** Runs of one call, after a first call has made the sessions and found the shapes. */
  async function runsOf(method: string, target: Target): Promise<number> {
    await explain(new Explainer(model, input), { methods: [method], target });
    counter.reset();
    await explain(new Explainer(model, input), { methods: [method], target });
    return counter.runs();
  }

  it.each([
    ['saliency', { kind: 'class', index: 1 } as Target, 1],
    ['saliency', { kind: 'top' } as Target, 2],
    ['guided-backprop', { kind: 'class', index: 2 } as Target, 1],
  ])('%s with target %o: %i run(s)', async (method, target, expected) => {
    // A given class needs no prediction pass: the gradient graph's run is the explanation.
    expect(await runsOf(method, target)).toBe(expected);
  });
});
