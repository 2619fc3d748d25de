/** Objective weights ("seeds") for the common targets. */
import { elementCount, type Tensor } from '../onnx/tensor.js';

/**
 * One-hot over the last axis of a [N, K] (or [N, …, K]) tensor: per sample, class `index`
 * (one index for all samples, or one per sample). The objective is then Σ_n logit[n, index_n].
 */
export function classSeed(dims: number[], index: number | number[]): Tensor {
  const k = dims[dims.length - 1];
  const perSample = elementCount(dims) / k;
  const idx = typeof index === 'number' ? new Array(perSample).fill(index) : index;
  if (idx.length !== perSample) throw new Error(`classSeed: ${idx.length} indices for ${perSample} samples`);
  const data = new Float32Array(elementCount(dims));
  idx.forEach((c, n) => {
    if (!Number.isInteger(c) || c < 0 || c >= k)
      throw new Error(`classSeed: class ${c} is outside 0..${k - 1}`);
    data[n * k + c] = 1;
  });
  return { dtype: 'float32', dims: [...dims], data };
}

/** Ones on channel `channel` of an [N, C, …] tensor: the objective is the channel's total activation. */
export function channelSeed(dims: number[], channel: number): Tensor {
  const [n, c] = dims;
  if (!Number.isInteger(channel) || channel < 0 || channel >= c) {
    throw new Error(`channelSeed: channel ${channel} is outside 0..${c - 1}`);
  }
  const plane = elementCount(dims.slice(2));
  const data = new Float32Array(elementCount(dims));
  for (let i = 0; i < n; i++) data.fill(1, (i * c + channel) * plane, (i * c + channel + 1) * plane);
  return { dtype: 'float32', dims: [...dims], data };
}

/** Ones everywhere (with power 2 the objective is the sum of squares, as in DeepDream). */
export function onesSeed(dims: number[]): Tensor {
  return { dtype: 'float32', dims: [...dims], data: new Float32Array(elementCount(dims)).fill(1) };
}
