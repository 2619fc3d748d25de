/**
 * Fast style transfer: one forward pass of a trained style network (Johnson et al. 2016) per
 * image, any size (the network is fully convolutional; sides are padded by reflection to a
 * multiple of 4, at least 8, and the result cropped back), with the style chosen or blended by the style
 * weights of conditional instance normalisation (Dumoulin et al. 2017, §4.3).
 */
import { readStyleCard, type StyleCard } from '../../data/styleCard.js';
import { encodeModel, type Model } from '../../onnx/model.js';
import { float32 } from '../../onnx/tensor.js';
import type { InferenceBackend, InferenceSession, SessionOptions } from '../../runtime/backend.js';
import { STYLE_NETWORK_TENSORS } from '../../train/styleNetwork.js';
import type { SourceImage } from './texture.js';

/** What to paint with: one style by index, or weights over all styles. */
export type StyleChoice = { style: number } | { mix: readonly number[] };

/**
 * The style weight vector for `choice` over `count` styles: one-hot for an index, or the mix
 * scaled to sum 1 (so `--mix 1,1` is a half-and-half blend). Throws naming the bad value.
 *
 * @example
 * ```ts
 * styleWeights(3, { style: 1 }); // [0, 1, 0]
 * styleWeights(2, { mix: [1, 3] }); // [0.25, 0.75]
 * ```
 */
export function styleWeights(count: number, choice: StyleChoice): Float32Array {
  const w = new Float32Array(count);
  if ('style' in choice) {
    const s = choice.style;
    if (!(Number.isInteger(s) && s >= 0 && s < count))
      throw new Error(`style index ${s} is out of range; the network holds styles 0-${count - 1}`);
    w[s] = 1;
    return w;
  }
  const mix = choice.mix;
  if (mix.length !== count)
    throw new Error(`the mix has ${mix.length} weights; the network holds ${count} styles, give ${count}`);
  const bad = mix.find((v) => !(Number.isFinite(v) && v >= 0));
  if (bad !== undefined) throw new Error(`mix weights must be finite and ≥ 0, got ${bad}`);
  const total = mix.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error('mix weights are all zero; give at least one positive weight');
  mix.forEach((v, k) => {
    w[k] = v / total;
  });
  return w;
}

/** Reflect-pad a [C, H, W] image on the bottom and right to (H + ph, W + pw). */
function reflectPad(pixels: Float32Array, c: number, h: number, w: number, ph: number, pw: number) {
  const [H, W] = [h + ph, w + pw];
  // Reflection without repeating the edge has period 2(n − 1), so pads wider than the image fold back too.
  const reflect = (i: number, n: number) => {
    if (n === 1) return 0;
    const r = i % (2 * (n - 1));
    return r < n ? r : 2 * (n - 1) - r;
  };
  const out = new Float32Array(c * H * W);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        out[(ch * H + y) * W + x] = pixels[(ch * h + reflect(y, h)) * w + reflect(x, w)];
  return out;
}

/** A loaded style network: its card and a session that stylises images of any size. */
export class Stylizer {
  private constructor(
    readonly card: StyleCard,
    private readonly session: InferenceSession,
  ) {}

  /**
   * @example
   * ```ts
   * const stylizer = await Stylizer.open(readModelFile('models/photo-styles.onnx'), nodeBackend());
   * const out = await stylizer.stylize(photo, { mix: [1, 1, 0] });
   * await stylizer.release();
   * ```
   */
  static async open(model: Model, backend: InferenceBackend, options?: SessionOptions): Promise<Stylizer> {
    const card = readStyleCard(model);
    if (!card)
      throw new Error(
        'the model is not a convlens style network (no "convlens.style" card); train one with `convlens style train`',
      );
    const t = STYLE_NETWORK_TENSORS;
    const names = model.graph.inputs.map((i) => i.name);
    if (!names.includes(t.image) || !names.includes(t.style))
      throw new Error(
        `a style network takes inputs "${t.image}" and "${t.style}"; this one takes ${names.join(', ')}`,
      );
    return new Stylizer(card, await backend.createSession(encodeModel(model).bytes, options));
  }

  get styles(): number {
    return this.card.styles.length;
  }

  /** The image stylised, same size as the input, pixels [1, 3, H, W] in (0, 1). */
  async stylize(image: SourceImage, choice: StyleChoice): Promise<SourceImage> {
    const [h, w] = image.size;
    const c = image.pixels.length / (h * w);
    if (c !== 3) throw new Error(`style networks take RGB images; this image has ${c} channels`);
    // Sides padded to a multiple of 4 (two stride-2 stages) and at least 8 (the 3×3 convs at 1/4
    // resolution pad by reflection, which needs 2 pixels there).
    const side = (n: number) => Math.max(8, Math.ceil(n / 4) * 4) - n;
    const [ph, pw] = [side(h), side(w)];
    const padded = ph || pw ? reflectPad(image.pixels, c, h, w, ph, pw) : image.pixels;
    const [H, W] = [h + ph, w + pw];
    const t = STYLE_NETWORK_TENSORS;
    const out = await this.session.run(
      {
        [t.image]: float32(padded, [1, 3, H, W]),
        [t.style]: float32(styleWeights(this.styles, choice), [1, this.styles]),
      },
      [t.output],
    );
    const y = out[t.output].data as Float32Array;
    if (!(ph || pw)) return { pixels: y, size: [h, w] };
    const cropped = new Float32Array(3 * h * w);
    for (let ch = 0; ch < 3; ch++)
      for (let r = 0; r < h; r++)
        cropped.set(y.subarray((ch * H + r) * W, (ch * H + r) * W + w), (ch * h + r) * w);
    return { pixels: cropped, size: [h, w] };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
