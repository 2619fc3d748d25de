/**
 * The shared CAM pipeline (after pytorch-grad-cam's BaseCAM): fetch the feature map A [K, h, w]
 * and the target's gradient G = ∂y/∂A, let a strategy weigh them, and return
 * ReLU(Σ_k W_k ⊙ A_k) at the layer's resolution, one [1, h, w] map per sample.
 */
import type { MethodOutput } from './method.js';
import type { GradientRowsRequest, MethodRun } from './pipeline.js';

/** Channel weights (length K) or element weights (length K·h·w) from one sample's A and G. */
export type CamWeighting = (a: Float32Array, g: Float32Array, channels: number, area: number) => Float32Array;

/** ReLU(Σ_k W_k A_k) for one sample; W has K (broadcast over space) or K·area entries. */
export function weightedSum(
  a: Float32Array,
  weights: Float32Array,
  channels: number,
  area: number,
): Float32Array {
  const out = new Float32Array(area);
  if (weights.length === channels * area) {
    for (let k = 0; k < channels; k++)
      for (let j = 0, i = k * area; j < area; j++, i++) out[j] += weights[i] * a[i];
  } else {
    for (let k = 0; k < channels; k++) {
      const w = weights[k];
      for (let j = 0, i = k * area; j < area; j++, i++) out[j] += w * a[i];
    }
  }
  for (let j = 0; j < area; j++) out[j] = Math.max(0, out[j]);
  return out;
}

/** The run the CAM family shares: the gradient at the feature map and the map itself. */
export const layerGradientRequest = (layer: string): GradientRowsRequest => ({
  wrt: [layer],
  outputs: [layer],
});

export async function gradientCam(run: MethodRun, weigh: CamWeighting): Promise<MethodOutput> {
  const e = run.explainer;
  const layer = run.layer!;
  const n = run.input.dims[0];
  const request = layerGradientRequest(layer);
  const r = await e.batchGradients(run.input, run.target, request, run.progress);
  const [channels, h, w] = await e.sampleDims(layer);
  const area = h * w;
  const per = channels * area;
  const a = r.outputs[layer];
  const g = r.gradients[layer];
  const data = new Float32Array(n * area);
  for (let i = 0; i < n; i++) {
    const ai = a.subarray(i * per, (i + 1) * per);
    data.set(
      weightedSum(ai, weigh(ai, g.subarray(i * per, (i + 1) * per), channels, area), channels, area),
      i * area,
    );
  }
  return { data, dims: [n, 1, h, w] };
}

/** Spatial mean of each channel of G (Grad-CAM's α_k, Selvaraju et al. 2017, eq. 1). */
export function channelMeans(g: Float32Array, channels: number, area: number, sign = 1): Float32Array {
  const out = new Float32Array(channels);
  for (let k = 0; k < channels; k++) {
    let s = 0;
    for (let j = 0; j < area; j++) s += g[k * area + j];
    out[k] = (sign * s) / area;
  }
  return out;
}
