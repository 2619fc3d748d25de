import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../onnx/builder.js';
import { float32 } from '../../onnx/tensor.js';
import type { InferenceBackend } from '../../runtime/backend.js';
import { ConvlensModel } from '../../runtime/model.js';
import { nodeBackend } from '../../runtime/node.js';
import { guidedTimesCam } from './guidedGradcam.js';
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
  const a = b.named(b.relu(b.named(b.conv(x, { in: 3, out: 4, kernel: 3, pads: 1 }), 'conv')), 'features');
  const logits = b.named(b.gemm(b.flatten(b.globalAveragePool(a)), { in: 4, out: 3 }), 'logits');
  const model = new ConvlensModel(b.build([logits]), counter.backend);
  afterAll(() => model.release());
  const input = float32(new Float32Array(2 * 3 * 64).fill(0.3), [2, 3, 8, 8]);

  /** Runs of one call, after a first call has made the sessions and found the shapes. */
  async function runsOf(methods: string[], target: Target, layer?: string): Promise<number> {
    await explain(new Explainer(model, input), { methods, target, layer });
    counter.reset();
    await explain(new Explainer(model, input), { methods, target, layer });
    return counter.runs();
  }

  const top: Target = { kind: 'top' };
  it.each([
    // One explanation is one run: a given class is fed as the seed; the top class is chosen in the
    // graph (ArgMax → one-hot) and the logits come back from the same run.
    [['saliency'], { kind: 'class', index: 1 } as Target, 1],
    [['saliency'], top, 1],
    [['guided-backprop'], top, 1],
    [['deconvnet'], { kind: 'class', index: 2 } as Target, 1],
    // The CAM family reads the feature map from its gradient run, and shares that run.
    [['gradcam'], top, 1],
    [['gradcam', 'gradcam++', 'layercam', 'counterfactual'], top, 1],
    // No ReLU lies above the feature map, so the guided run gives Grad-CAM's gradient too: guided
    // Grad-CAM is one run, and shares it with guided backprop and Grad-CAM.
    [['guided-gradcam'], top, 1],
    [['guided-backprop', 'guided-gradcam', 'gradcam'], top, 1],
    // One run per ReLU rule: saliency and the CAM family share the vanilla run.
    [['saliency', 'gradcam'], top, 1],
    [['saliency', 'guided-backprop', 'deconvnet', 'gradcam', 'guided-gradcam', 'cam'], top, 3],
    // CAM reads the feature map of a forward pass, which also gives the prediction; beside a
    // gradient method at the layer it reads the map from that method's run.
    [['cam'], top, 1],
    [['cam', 'gradcam'], top, 1],
    [['gradcam++', 'cam', 'layercam'], { kind: 'class', index: 0 } as Target, 1],
    // Integrated Gradients explains the prediction of the image, not of its path points: one
    // forward pass for the class, then 2 × 50 path rows in 4 batches of ≤ 32, and the end points.
    [['ig'], top, 1 + 4 + 1],
  ])('%j with target %o: %i run(s)', async (methods, target, expected) => {
    expect(await runsOf(methods, target)).toBe(expected);
  });

  it('at a layer below a ReLU, guided Grad-CAM takes a guided and a vanilla run', async () => {
    expect(await runsOf(['guided-gradcam'], top, 'conv')).toBe(2);
    expect(await runsOf(['saliency', 'gradcam'], top, 'conv')).toBe(1);
  });

  it('guided Grad-CAM from the shared run equals guided backprop times Grad-CAM run apart', async () => {
    const shared = await explain(new Explainer(model, input), { methods: ['guided-gradcam'] });
    const guided = await explain(new Explainer(model, input), { methods: ['guided-backprop'] });
    const cam = await explain(new Explainer(model, input), { methods: ['gradcam'] });
    const apart = guidedTimesCam(guided.maps[0].data, cam.maps[0].data, input.dims, cam.maps[0].dims);
    const scale = Math.max(...apart.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    // The layer gradient comes from the same backward nodes in both runs: equal up to float32 rounding.
    for (let i = 0; i < apart.length; i++)
      expect(Math.abs(shared.maps[0].data[i] - apart[i])).toBeLessThan(1e-6 * scale);
  });

  it('the top class chosen in the graph is the prediction, and the map equals the one for that class given', async () => {
    const e = new Explainer(model, input);
    const lazy = await explain(e, { methods: ['saliency', 'gradcam'] });
    const predicted = await new Explainer(model, input).predicted();
    expect(lazy.maps[0].target.classes).toEqual(predicted);
    const given = await explain(new Explainer(model, input), {
      methods: ['saliency', 'gradcam'],
      target: { kind: 'classes', indices: predicted },
    });
    for (const [k, map] of lazy.maps.entries()) expect(map.data).toEqual(given.maps[k].data);
    expect(await e.predicted()).toEqual(predicted);
  });
});
