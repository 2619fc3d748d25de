/**
 * A small DCGAN-style generator and discriminator (Radford, Metz & Chintala 2016), sized for
 * 32×32 images. The generator maps a latent z ∈ ℝᴰ through a linear layer to a 4×4 map, then
 * three stages of ×2 nearest upsampling + 3×3 conv (which avoids transposed convolutions'
 * checkerboard, Odena, Dumoulin & Olah 2016), each conv followed by pixel normalisation and ReLU,
 * and a 3×3 conv to RGB through a sigmoid. Pixel normalisation (Karras et al. 2018, "Progressive
 * Growing of GANs", eq. 2: b = a / √(mean_c a² + ε)) stands in for BatchNorm: it trains like it
 * and keeps every sample independent of the others in its batch, so a dissection or an edit of
 * one sample does not depend on what it was batched with. The discriminator is three stride-2
 * 4×4 convs with LeakyReLU(0.2), a minibatch standard deviation channel and a linear layer to
 * one logit; `spectralNorm` normalises every weight spectrally.
 */
import { GraphBuilder } from '../onnx/builder.js';
import type { Model } from '../onnx/model.js';
import { float32, int64 } from '../onnx/tensor.js';

/** Names of the generator's input, stage outputs (after ReLU) and image. */
export const GENERATOR_TENSORS = {
  latent: 'z',
  layers: ['block1', 'block2', 'block3', 'block4'],
  image: 'image',
} as const;

/** Names of the discriminator's input and logit. */
export const DISCRIMINATOR_TENSORS = { image: 'image', logit: 'logit' } as const;

export interface GeneratorOptions {
  /** Latent dimension (default 64). */
  latent?: number;
  /** Channels of the 4×4 map; each later stage halves them (default 128). */
  width?: number;
  seed?: number;
}

/** Pixel normalisation over channels: x / √(mean_c x² + 1e-8). */
function pixelNorm(b: GraphBuilder, x: string): string {
  const meanSquare = b.op1('ReduceMean', [b.mul(x, x)], { axes: [1], keepdims: 1 });
  const eps = b.param(b.fresh('pn_eps'), float32([1e-8], []));
  return b.op1('Div', [x, b.op1('Sqrt', [b.add(meanSquare, eps)])]);
}

/**
 * The generator: input `z` [N, latent], output `image` [N, 3, 32, 32] in (0, 1); stage outputs
 * `block1` (4×4) … `block4` (32×32) with width, width/2, width/4, width/8 channels.
 *
 * @example
 * ```ts
 * const g = shapesGenerator({ latent: 64, width: 128, seed: 1 });
 * // feed z [N, 64] ~ N(0, 1); read 'image' or a stage such as 'block2' [N, 64, 8, 8]
 * ```
 */
export function shapesGenerator(options: GeneratorOptions = {}): Model {
  const latent = options.latent ?? 64;
  const width = options.width ?? 128;
  if (!(Number.isInteger(latent) && latent >= 1))
    throw new Error(`latent must be a positive integer, got ${latent}`);
  if (!(Number.isInteger(width) && width >= 8 && width % 8 === 0))
    throw new Error(`width must be a multiple of 8, got ${width}`);
  const b = new GraphBuilder({ seed: options.seed ?? 0, opset: 13 });
  const t = GENERATOR_TENSORS;
  const z = b.input(t.latent, ['N', latent]);
  const fc = b.gemm(z, { in: latent, out: width * 16, name: 'g_fc' });
  const shape = b.param('g_shape', int64([-1, width, 4, 4]));
  let h = b.named(b.relu(pixelNorm(b, b.op1('Reshape', [fc, shape]))), t.layers[0]);
  const scales = b.param('g_upsample', float32([1, 1, 2, 2]));
  let channels = width;
  for (let stage = 1; stage < t.layers.length; stage++) {
    const up = b.op1('Resize', [h, '', scales], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
    const conv = b.conv(up, { in: channels, out: channels / 2, kernel: 3, pads: 1, name: 'g_conv' });
    channels /= 2;
    h = b.named(b.relu(pixelNorm(b, conv)), t.layers[stage]);
  }
  const rgb = b.conv(h, { in: channels, out: 3, kernel: 3, pads: 1, name: 'g_rgb' });
  return b.build([b.named(b.op1('Sigmoid', [rgb]), t.image)]);
}

/** Rows per minibatch-stddev group; a batch's size must be a multiple of it. */
export const STDDEV_GROUP = 4;

/**
 * Minibatch standard deviation (Karras et al. 2018, §3): x [N, C, 4, 4] gains one channel holding,
 * for each group of STDDEV_GROUP consecutive rows, the mean over channels and positions of the
 * rows' standard deviation, so the discriminator sees a batch's variety and the generator is
 * pushed away from collapsing to a few outputs. Groups never mix the real and the generated half
 * of a batch when each half is a multiple of the group.
 */
function minibatchStddev(b: GraphBuilder, x: string, channels: number): string {
  const g = STDDEV_GROUP;
  const grouped = b.op1('Reshape', [x, b.param('d_mbstd_group', int64([-1, g, channels, 4, 4]))]);
  const centred = b.op1('Sub', [grouped, b.op1('ReduceMean', [grouped], { axes: [1], keepdims: 1 })]);
  const variance = b.op1('ReduceMean', [b.mul(centred, centred)], { axes: [1], keepdims: 1 });
  const std = b.op1('Sqrt', [b.add(variance, b.param('d_mbstd_eps', float32([1e-8], [])))]);
  const mean = b.op1('ReduceMean', [std], { axes: [2, 3, 4], keepdims: 1 });
  const spread = b.add(mean, b.param('d_mbstd_zeros', float32(new Float32Array(g * 16), [1, g, 1, 4, 4])));
  const feature = b.op1('Reshape', [spread, b.param('d_mbstd_rows', int64([-1, 1, 4, 4]))]);
  return b.concat([x, feature], 1);
}

/**
 * The discriminator: input `image` [N, 3, 32, 32] in [0, 1], output `logit` [N, 1] (real > 0).
 *
 * @example
 * ```ts
 * const d = shapesDiscriminator({ width: 32, seed: 2 });
 * ```
 */
export function shapesDiscriminator(
  options: { width?: number; seed?: number; spectralNorm?: boolean } = {},
): Model {
  const width = options.width ?? 32;
  if (!(Number.isInteger(width) && width >= 1))
    throw new Error(`width must be a positive integer, got ${width}`);
  const b = new GraphBuilder({ seed: options.seed ?? 0, opset: 13 });
  const t = DISCRIMINATOR_TENSORS;
  let h = b.input(t.image, ['N', 3, 32, 32]);
  let channels = 3;
  for (const out of [width, 2 * width, 4 * width]) {
    const conv = b.conv(h, { in: channels, out, kernel: 4, stride: 2, pads: 1, name: 'd_conv' });
    h = b.op1('LeakyRelu', [conv], { alpha: 0.2 });
    channels = out;
  }
  h = minibatchStddev(b, h, channels);
  const flat = b.flatten(h);
  const d = b.build([b.named(b.gemm(flat, { in: (channels + 1) * 16, out: 1, name: 'd_fc' }), t.logit)]);
  return options.spectralNorm ? withSpectralScales(d) : d;
}

/** The scale initializer of a spectrally normalised weight `w`: 1/σ(W), set by the trainer. */
export const spectralScaleName = (w: string) => `${w}::sn`;

/**
 * Spectral normalisation's graph side (Miyato et al. 2018, "Spectral Normalization for GANs"):
 * every Conv and Gemm weight W is used as W · s, s a scalar initializer `W::sn` that the trainer
 * keeps at 1/σ(W) by power iteration (s is a constant to the gradient, which then is s · ∂L/∂(Ws)).
 */
export function withSpectralScales(model: Model): Model {
  const g = model.graph;
  const nodes = [];
  for (const n of g.nodes) {
    const w = n.inputs[1];
    if ((n.opType === 'Conv' || n.opType === 'Gemm') && g.initializers.has(w)) {
      const scale = spectralScaleName(w);
      g.initializers.set(scale, float32([1], []));
      const scaled = `${w}::scaled`;
      nodes.push({
        name: scaled,
        opType: 'Mul',
        domain: '',
        inputs: [w, scale],
        outputs: [scaled],
        attrs: {},
      });
      nodes.push({ ...n, inputs: [n.inputs[0], scaled, ...n.inputs.slice(2)] });
    } else nodes.push(n);
  }
  g.nodes = nodes;
  return model;
}
