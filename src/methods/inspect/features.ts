/** Feature vectors of a dataset at one layer (global-average-pooled where spatial), for neighbours and embeddings. */
import type { Sample } from '../../data/dataset.js';
import { elementCount } from '../../onnx/tensor.js';
import type { ConvlensModel } from '../../runtime/model.js';
import type { ScanSource } from './scan.js';

export interface FeatureSet {
  /** n × d, row-major. */
  features: Float32Array;
  n: number;
  d: number;
  labels: number[];
  /** The dataset indices of the rows. */
  indices: number[];
  /** Whether the layer was spatial and pooled. */
  pooled: boolean;
  /** With `keepImages`: each sample's C×H×W pixels as bytes (value · 255), n × C·H·W. */
  images?: Uint8Array;
}

/**
 * Run `indices` of `source` through the model and keep `layer` per sample: [C, H, W] maps become
 * their spatial mean (C values), other tensors are flattened.
 *
 * @example
 * ```ts
 * const f = await extractFeatures(model, source, { layer: 'features', indices: [0, 1, 2], batch: 64, inputShape: [1, 28, 28], toInput });
 * ```
 */
export async function extractFeatures(
  model: ConvlensModel,
  source: ScanSource,
  options: {
    layer: string;
    indices: number[];
    batch: number;
    inputShape: number[];
    toInput(sample: Sample, out: Float32Array, offset: number): void;
    /** Keep the samples' pixels (for thumbnails and pixel-space neighbours). */
    keepImages?: boolean;
    onProgress?(p: { done: number; total: number }): void;
  },
): Promise<FeatureSet> {
  const { layer, indices, batch, inputShape } = options;
  const per = elementCount(inputShape);
  const x = new Float32Array(batch * per);
  let features = new Float32Array(0);
  let d = 0;
  let pooled = false;
  const labels: number[] = [];
  let images: Uint8Array | undefined;
  for (let b = 0; b < indices.length; b += batch) {
    const chunk = indices.slice(b, b + batch);
    const samples = await Promise.all(chunk.map((i) => source.load(i)));
    x.fill(0);
    for (const [k, s] of samples.entries()) options.toInput(s, x, k * per);
    const out = (
      await model.run({ dtype: 'float32', dims: [batch, ...inputShape], data: x }, { outputs: [layer] })
    )[layer];
    const data = out.data as Float32Array;
    if (b === 0) {
      pooled = out.dims.length === 4;
      d = pooled ? out.dims[1] : elementCount(out.dims.slice(1));
      features = new Float32Array(indices.length * d);
    }
    const area = pooled ? out.dims[2] * out.dims[3] : 1;
    for (let k = 0; k < chunk.length; k++) {
      for (let c = 0; c < d; c++) {
        let s = 0;
        const o = (k * d + c) * area;
        for (let j = 0; j < area; j++) s += data[o + j];
        features[(b + k) * d + c] = s / area;
      }
      labels.push(samples[k].label);
      if (options.keepImages) {
        const px = samples[k].image;
        images ??= new Uint8Array(indices.length * px.length);
        for (let j = 0; j < px.length; j++)
          images[(b + k) * px.length + j] = Math.round(255 * Math.min(1, Math.max(0, px[j])));
      }
    }
    options.onProgress?.({ done: Math.min(b + batch, indices.length), total: indices.length });
  }
  for (const v of features)
    if (!Number.isFinite(v)) throw new Error(`features of layer "${layer}" are not finite`);
  return { features, n: indices.length, d, labels, indices, pooled, images };
}
