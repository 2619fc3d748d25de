/**
 * The feed-forward style network (Johnson, Alahi & Fei-Fei 2016, "Perceptual Losses for Real-Time
 * Style Transfer", supplementary Table 1): a 9×9 conv, two stride-2 convs, residual blocks, two
 * ×2 upsamplings and a 9×9 conv back to RGB. Instance normalisation after every conv but the last
 * (Ulyanov, Vedaldi & Lempitsky 2016); upsampling is nearest Resize followed by a conv, which
 * avoids transposed convolutions' checkerboard (Odena, Dumoulin & Olah 2016, Distill); convs pad
 * by reflection.
 *
 * Normalisation is conditional (Dumoulin, Shlens & Kudlur 2017, "A Learned Representation for
 * Artistic Style", eq. 5): y = γ_s · x̂ + β_s with one (γ, β) row per style, chosen by the `style`
 * input w ∈ ℝ^S as γ = wΓ, β = wB. A one-hot w picks style s; a convex w blends styles linearly
 * in (γ, β), as in their §4.3.
 */
import { GraphBuilder } from '../onnx/builder.js';
import type { Model } from '../onnx/model.js';
import { float32, int64 } from '../onnx/tensor.js';

export interface StyleNetworkOptions {
  /** Styles the network holds (rows of each conditional normalisation). */
  styles: number;
  /** Channels of the first conv; the stride-2 stages have 2× and 4× (default 16). */
  width?: number;
  /** Residual blocks at 1/4 resolution (default 5, as Johnson et al.). */
  residualBlocks?: number;
  seed?: number;
  /** ai.onnx opset, 11 or later (default 13): train with a loss network of another opset. */
  opset?: number;
}

/** Names of the network's graph inputs and output. */
export const STYLE_NETWORK_TENSORS = { image: 'image', style: 'style', output: 'stylized' } as const;

/** The conditional normalisations' parameters, named `cin{k}_gamma` / `cin{k}_beta` ([styles, channels]). */
export const isConditionalNormParameter = (name: string) => /^cin\d+_(gamma|beta)$/.test(name);

/**
 * Conditional instance normalisation of x [N, C, H, W] under style weights [N, S]:
 * y = (wΓ) ⊙ x̂ + wB with x̂ the instance-normalised x (ε = 1e-5). Γ starts at ones and B at zeros
 * (plain instance normalisation for every style); they are initializers `NAME_gamma`,
 * `NAME_beta` of shape [S, C], and y is the tensor `NAME`. `axes` is an int64 initializer [2, 3]
 * for Unsqueeze from opset 13 on (the attribute before).
 *
 * @example
 * ```ts
 * const b = new GraphBuilder();
 * const y = conditionalInstanceNorm(b, b.input('x', [1, 8, 16, 16]), {
 *   channels: 8, styles: 2, style: b.input('w', [1, 2]), name: 'cin1',
 *   axes: b.param('axes', int64([2, 3])),
 * });
 * ```
 */
export function conditionalInstanceNorm(
  b: GraphBuilder,
  x: string,
  o: { channels: number; styles: number; style: string; name: string; axes?: string },
): string {
  const c = o.channels;
  const unit = b.param(`${o.name}_unit`, float32(new Float32Array(c).fill(1), [c]));
  const zero = b.param(`${o.name}_zero`, float32(new Float32Array(c), [c]));
  const xhat = b.op1('InstanceNormalization', [x, unit, zero], { epsilon: 1e-5 });
  const gamma = b.param(`${o.name}_gamma`, float32(new Float32Array(o.styles * c).fill(1), [o.styles, c]));
  const beta = b.param(`${o.name}_beta`, float32(new Float32Array(o.styles * c), [o.styles, c]));
  // [N, S] · [S, C] → [N, C] → [N, C, 1, 1]
  const perSample = (table: string) => {
    const rows = b.op1('MatMul', [o.style, table]);
    return o.axes ? b.op1('Unsqueeze', [rows, o.axes]) : b.op1('Unsqueeze', [rows], { axes: [2, 3] });
  };
  return b.named(b.add(b.mul(xhat, perSample(gamma)), perSample(beta)), o.name);
}

class StyleNetworkBuilder {
  readonly b: GraphBuilder;
  private readonly unsqueezeAxes?: string;
  private norms = 0;

  constructor(
    private readonly styles: number,
    seed: number,
    opset: number,
  ) {
    this.b = new GraphBuilder({ seed, opset });
    if (opset >= 13) this.unsqueezeAxes = this.b.param('cin_axes', int64([2, 3]));
  }

  /** Reflection pad then conv (no bias when a normalisation follows: it would be subtracted away). */
  conv(x: string, cin: number, cout: number, kernel: number, stride = 1, bias = false): string {
    const b = this.b;
    const p = (kernel - 1) / 2;
    const pads = b.param(b.fresh('pads'), int64([0, 0, p, p, 0, 0, p, p]));
    const padded = p > 0 ? b.op1('Pad', [x, pads], { mode: 'reflect' }) : x;
    return b.conv(padded, { in: cin, out: cout, kernel, stride, pads: 0, bias });
  }

  conditionalNorm(x: string, channels: number, style: string): string {
    return conditionalInstanceNorm(this.b, x, {
      channels,
      styles: this.styles,
      style,
      name: `cin${++this.norms}`,
      axes: this.unsqueezeAxes,
    });
  }

  convNormRelu(x: string, cin: number, cout: number, kernel: number, style: string, stride = 1): string {
    return this.b.relu(this.conditionalNorm(this.conv(x, cin, cout, kernel, stride), cout, style));
  }
}

/**
 * The network: inputs `image` [N, 3, H, W] in [0, 1] and `style` [N, S] (style weights), output
 * `stylized` [N, 3, H, W] in (0, 1) through a sigmoid. Fully convolutional: any H, W divisible by 4
 * keep their size exactly.
 *
 * @example
 * ```ts
 * const net = styleNetwork({ styles: 3, width: 16, residualBlocks: 5 });
 * // feed image [1, 3, 256, 256] and style [[0, 1, 0]] for the second style
 * ```
 */
export function styleNetwork(options: StyleNetworkOptions): Model {
  const styles = options.styles;
  const width = options.width ?? 16;
  const blocks = options.residualBlocks ?? 5;
  if (!(Number.isInteger(styles) && styles >= 1))
    throw new Error(`styles must be a positive integer, got ${styles}`);
  if (!(Number.isInteger(width) && width >= 1))
    throw new Error(`width must be a positive integer, got ${width}`);
  if (!(Number.isInteger(blocks) && blocks >= 0))
    throw new Error(`residualBlocks must be a non-negative integer, got ${blocks}`);
  const opset = options.opset ?? 13;
  if (!(Number.isInteger(opset) && opset >= 11))
    throw new Error(`the style network needs opset 11 or later (Pad and Resize with inputs), got ${opset}`);
  const net = new StyleNetworkBuilder(styles, options.seed ?? 0, opset);
  const b = net.b;
  const t = STYLE_NETWORK_TENSORS;
  const image = b.input(t.image, ['N', 3, 'H', 'W']);
  const style = b.input(t.style, ['N', styles]);
  const [w1, w2, w3] = [width, 2 * width, 4 * width];
  let h = net.convNormRelu(image, 3, w1, 9, style);
  h = net.convNormRelu(h, w1, w2, 3, style, 2);
  h = net.convNormRelu(h, w2, w3, 3, style, 2);
  for (let r = 0; r < blocks; r++) {
    const inner = net.convNormRelu(h, w3, w3, 3, style);
    h = b.add(h, net.conditionalNorm(net.conv(inner, w3, w3, 3), w3, style));
  }
  const scales = b.param('upsample_scales', float32([1, 1, 2, 2]));
  const upsample = (x: string) =>
    b.op1('Resize', [x, '', scales], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
  h = net.convNormRelu(upsample(h), w3, w2, 3, style);
  h = net.convNormRelu(upsample(h), w2, w1, 3, style);
  const out = b.named(b.op1('Sigmoid', [net.conv(h, w1, 3, 9, 1, true)]), t.output);
  return b.build([out]);
}
