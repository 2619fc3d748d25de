/**
 * Score-CAM: weigh each channel by the target's score on the input masked by that channel's
 * upsampled, min-max normalised map: H_k = norm(up(A_k)), s_k = softmax(f(x ⊙ H_k))_c, map =
 * ReLU(Σ_k s_k A_k) (Wang et al. 2020, eqs. 3–6; for a channel or neuron target s_k is the raw
 * objective). Masked copies run in batches.
 */
import { resizeImage } from '../../data/dataset.js';
import { softmax } from '../../maths/softmax.js';
import { weightedSum } from './camPipeline.js';
import type { AttributionMethod } from './method.js';
import type { MethodRun } from './pipeline.js';
import { objectiveValues } from './target.js';

export const scoreCam: AttributionMethod = {
  name: 'score-cam',
  title: 'Score-CAM',
  reference: 'Wang et al. 2020, eqs. 3–6',
  resolution: 'layer',
  needsLayer: true,
  defaults: {},
  async run(run: MethodRun) {
    const e = run.explainer;
    const layer = run.layer!;
    const [n, c, height, width] = run.input.dims;
    const [channels, h, w] = await e.sampleDims(layer);
    const area = h * w;
    const per = c * height * width;
    const x = run.input.data as Float32Array;
    const a = (await e.activations(layer, run.input)).data as Float32Array;
    // Upsampled, normalised masks, made per sample as its rows come up (Σ rows = n·K).
    let cachedSample = -1;
    let masks: Float32Array[] = [];
    const maskOf = (i: number, k: number): Float32Array => {
      if (cachedSample !== i) {
        // All K maps upsampled in one pass, then each min-max normalised.
        const maps = a.subarray(i * channels * area, (i + 1) * channels * area);
        // A copy when no resize happens: the masks are normalised in place.
        const up =
          h === height && w === width
            ? Float32Array.from(maps)
            : resizeImage(maps, channels, h, w, height, width);
        const plane = height * width;
        masks = Array.from({ length: channels }, (_, kk) => {
          const m = up.subarray(kk * plane, (kk + 1) * plane);
          let lo = m[0];
          let hi = m[0];
          for (let j = 1; j < plane; j++) {
            const v = m[j];
            if (v < lo) lo = v;
            else if (v > hi) hi = v;
          }
          if (hi > lo) {
            const scale = 1 / (hi - lo);
            for (let j = 0; j < plane; j++) m[j] = (m[j] - lo) * scale;
          } else m.fill(0);
          return m;
        });
        cachedSample = i;
      }
      return masks[k];
    };
    const isClass = run.target.classes !== undefined;
    const outputs = [run.target.tensor];
    const scores = new Float64Array(n * channels);
    await e.forwardRows(
      n * channels,
      (r, out, offset) => {
        const i = Math.floor(r / channels);
        const m = maskOf(i, r % channels);
        const area = height * width;
        for (let ch = 0; ch < c; ch++) {
          const src = x.subarray(i * per + ch * area, i * per + (ch + 1) * area);
          const dst = out.subarray(offset + ch * area, offset + (ch + 1) * area);
          for (let j = 0; j < area; j++) dst[j] = src[j] * m[j];
        }
      },
      outputs,
      (result, start, count) => {
        const t = result[run.target.tensor];
        if (isClass) {
          const k = t.dims[t.dims.length - 1];
          const d = t.data as Float32Array;
          for (let q = 0; q < count; q++) {
            const cls = run.target.classes![Math.floor((start + q) / channels)];
            scores[start + q] = softmax(d.subarray(q * k, (q + 1) * k))[cls];
          }
        } else {
          const weights = run.target.weights(
            Array.from({ length: t.dims[0] }, (_, q) =>
              q < count ? Math.floor((start + q) / channels) : -1,
            ),
          );
          const v = objectiveValues(t, weights);
          for (let q = 0; q < count; q++) scores[start + q] = v[q];
        }
      },
      run.progress,
    );
    const data = new Float32Array(n * area);
    for (let i = 0; i < n; i++) {
      const weights = Float32Array.from(scores.subarray(i * channels, (i + 1) * channels));
      data.set(
        weightedSum(a.subarray(i * channels * area, (i + 1) * channels * area), weights, channels, area),
        i * area,
      );
    }
    return { data, dims: [n, 1, h, w] };
  },
};
