/**
 * CAM: M_c = Σ_k w_ck A_k with w the weights of the linear layer after global average pooling
 * (Zhou et al. 2016, §2, eq. 2), reported after ReLU. Needs a GAP → linear head on the layer.
 */
import { weightedSum } from './camPipeline.js';
import { findGapLinearHead } from './head.js';
import type { AttributionMethod } from './method.js';
import type { MethodRun } from './pipeline.js';

export const cam: AttributionMethod = {
  name: 'cam',
  title: 'CAM',
  reference: 'Zhou et al. 2016, eq. 2',
  resolution: 'layer',
  needsLayer: true,
  defaults: {},
  async run(run: MethodRun) {
    const e = run.explainer;
    const layer = run.layer!;
    const head = findGapLinearHead(e.model.model.graph, layer, e.logits);
    if ('reason' in head)
      throw new Error(
        `cam: the model has no global-average-pooling → linear head on "${layer}" (${head.reason}); use gradcam (CAM's generalisation), or make a CAM-ready model with \`convlens retrofit --layer ${layer}\``,
      );
    if (!run.target.classes)
      throw new Error(`cam explains classes; target "${run.target.labels[0]}" is not a class (use gradcam)`);
    const n = run.input.dims[0];
    const [channels, h, w] = await e.sampleDims(layer);
    const area = h * w;
    const a = (await e.activations(layer, run.input)).data as Float32Array;
    const data = new Float32Array(n * area);
    for (let i = 0; i < n; i++) {
      const c = run.target.classes[i];
      const weights = head.weights.subarray(c * channels, (c + 1) * channels);
      data.set(
        weightedSum(a.subarray(i * channels * area, (i + 1) * channels * area), weights, channels, area),
        i * area,
      );
    }
    run.progress(n, n);
    return { data, dims: [n, 1, h, w] };
  },
};
