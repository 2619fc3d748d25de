/**
 * A network of random multi-scale filters for texture synthesis and style without a trained
 * model (Ustyuzhaninov, Brendel, Gatys & Bethge 2016, "Texture synthesis using shallow
 * convolutional networks with random filters"): one convolutional layer per filter size, each
 * with zero-mean random filters and a ReLU, whose Gram matrices describe texture at that scale.
 */
import type { Preprocessing } from '../../data/preprocess.js';
import { Random } from '../../maths/random.js';
import { GraphBuilder } from '../../onnx/builder.js';
import type { Model } from '../../onnx/model.js';
import { float32 } from '../../onnx/tensor.js';

export interface RandomFeatureOptions {
  channels?: 1 | 3;
  /** Filter sizes, one layer each (default 3, 5, 7, 11). */
  sizes?: readonly number[];
  /** Filters per layer (default 64). */
  filters?: number;
  seed?: number;
}

export const RANDOM_FEATURE_PREPROCESSING = (channels: 1 | 3): Preprocessing => ({
  size: [128, 128],
  channels,
  resize: 'exact',
  mean: [0.5],
  std: [0.5],
});

/**
 * The network, with layers named `rf3`, `rf5`, … (one per filter size), and the preprocessing
 * that maps its [0, 1] pixels to [−1, 1].
 *
 * @example
 * ```ts
 * const { model, layers } = randomFeatureNetwork({ sizes: [3, 7], filters: 32 });
 * layers; // ['rf3', 'rf7']
 * ```
 */
export function randomFeatureNetwork(options: RandomFeatureOptions = {}): {
  model: Model;
  layers: string[];
  preprocessing: Preprocessing;
} {
  const channels = options.channels ?? 3;
  const sizes = options.sizes ?? [3, 5, 7, 11];
  const filters = options.filters ?? 64;
  for (const k of sizes)
    if (!(Number.isInteger(k) && k >= 1 && k % 2 === 1))
      throw new Error(`random feature filter sizes must be odd integers ≥ 1, got ${k}`);
  const rng = new Random(options.seed ?? 0);
  const b = new GraphBuilder({ seed: options.seed ?? 0 });
  const x = b.input('input', ['N', channels, 'H', 'W']);
  const layers = sizes.map((k) => {
    const fan = channels * k * k;
    // Zero-mean filters with unit-variance responses to white input.
    const w = rng.normals(filters * fan, 1 / Math.sqrt(fan));
    for (let f = 0; f < filters; f++) {
      const filter = w.subarray(f * fan, (f + 1) * fan);
      const mean = filter.reduce((s, v) => s + v, 0) / fan;
      for (let i = 0; i < fan; i++) filter[i] -= mean;
    }
    const conv = b.conv(x, {
      in: channels,
      out: filters,
      kernel: k,
      pads: (k - 1) / 2,
      weight: float32(w, [filters, channels, k, k]),
      bias: false,
      name: `rf${k}`,
    });
    return b.named(b.relu(conv), `rf${k}`);
  });
  const model = b.build(layers);
  const preprocessing = RANDOM_FEATURE_PREPROCESSING(channels);
  return { model, layers, preprocessing };
}
