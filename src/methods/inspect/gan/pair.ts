/**
 * A generator and the segmenter that reads its images, as GAN dissection uses them (Bau et al.
 * 2019, §3): latent z → generated image → per-pixel classes. Any ONNX generator whose input is a
 * latent vector ([N, D] or [N, D, 1, 1]) and whose output is an image, and any ONNX segmenter
 * whose output is [N, classes, H, W] logits at the image's size, can be paired. Latent i of seed s
 * is N(0, 1) noise that depends only on (s, i), so any sample can be drawn again alone.
 */
import { normalizeInto, type Preprocessing } from '../../../data/preprocess.js';
import { indexSeed, Random } from '../../../maths/random.js';
import type { Model } from '../../../onnx/model.js';
import { float32, type Tensor } from '../../../onnx/tensor.js';
import type { InferenceBackend, SessionOptions } from '../../../runtime/backend.js';
import { ConvlensModel } from '../../../runtime/model.js';
import { argmaxClasses } from '../../../train/segmenterTraining.js';
import { interventionInputs, withIntervention } from './intervention.js';

/** Units of one layer forced to values over a region (see ./intervention.ts). */
export interface Edit {
  layer: string;
  /** A: [C·H·W] in [0, 1], where each unit is forced. */
  mask: Float32Array;
  /** V: [C], the value each unit is forced to. */
  value: Float32Array;
}

export interface LayerShape {
  channels: number;
  height: number;
  width: number;
}

export interface GanPairOptions {
  generator: Model;
  /** Without one, `generate` returns images only (empty class maps). */
  segmenter?: Model;
  /** The segmenter's classes, one per output channel (its card's classes). */
  classes: readonly string[];
  /** The segmenter's input normalisation (its card's preprocessing; default: pixels in [0, 1]). */
  segmenterPreprocessing?: Pick<Preprocessing, 'mean' | 'std'>;
  /** Latent size when the generator's input does not declare it. */
  latentDim?: number;
  /** The generator's pixel range: 'unit' [0, 1] (default) or 'symmetric' [−1, 1] (tanh outputs). */
  outputRange?: 'unit' | 'symmetric';
  /** Samples per onnxruntime run (default 50). */
  batch?: number;
  session?: SessionOptions;
}

/** A generator's latent input: its name, its size D and its dims after the batch axis. */
export function latentInput(
  generator: Model,
  latentDim?: number,
): { name: string; size: number; dims: number[] } {
  const inputs = generator.graph.inputs.filter((i) => !generator.graph.initializers.has(i.name));
  if (inputs.length !== 1)
    throw new Error(
      `a generator takes one latent input; this model has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`,
    );
  const input = inputs[0];
  const shape = input.shape ?? [];
  const declared = shape[1];
  const size = typeof declared === 'number' ? declared : latentDim;
  const latentShaped = shape.length === 2 || (shape.length === 4 && shape[2] === 1 && shape[3] === 1);
  if (!latentShaped || input.dtype !== 'float32')
    throw new Error(
      `the generator's input "${input.name}" is ${input.dtype} [${shape.join(', ')}]; a generator takes a float latent vector [N, D] or [N, D, 1, 1]`,
    );
  if (size === undefined)
    throw new Error(`the generator's input "${input.name}" has no fixed size; give --latent-dim D`);
  if (latentDim !== undefined && latentDim !== size)
    throw new Error(
      `--latent-dim ${latentDim} differs from the generator's input "${input.name}" of size ${size}`,
    );
  return { name: input.name, size, dims: shape.length === 2 ? [size] : [size, 1, 1] };
}

/**
 * `count` latents of seed `seed` from index `start`, [count · D], each N(0, 1) from (seed, index).
 * @example
 * latents(0, 10, 2, 64); // z_10 and z_11 of seed 0
 */
export function latents(seed: number, start: number, count: number, size: number): Float32Array {
  const out = new Float32Array(count * size);
  for (let i = 0; i < count; i++) out.set(new Random(indexSeed(seed, start + i)).normals(size), i * size);
  return out;
}

/**
 * A generator with its segmenter.
 *
 * @example
 * ```ts
 * const pair = await GanPair.open({ generator, segmenter, classes: readCard(segmenter)!.classes }, nodeBackend());
 * const z = latents(0, 0, 8, pair.latent.size);
 * const { images, classes } = await pair.generate(z, 8); // classes: [8 · H · W] class ids
 * ```
 */
export class GanPair {
  readonly latent: { name: string; size: number; dims: number[] };
  /** Generated image [C, H, W]. */
  image: [number, number, number] = [0, 0, 0];
  readonly batch: number;
  private readonly generator: ConvlensModel;
  private readonly segmenter?: ConvlensModel;
  private readonly edited = new Map<string, ConvlensModel>();
  private readonly shapes = new Map<string, LayerShape>();

  private constructor(
    readonly options: GanPairOptions,
    readonly backend: InferenceBackend,
  ) {
    this.latent = latentInput(options.generator, options.latentDim);
    this.batch = options.batch ?? 50;
    this.generator = new ConvlensModel(options.generator, backend, options.session);
    if (options.segmenter) this.segmenter = new ConvlensModel(options.segmenter, backend, options.session);
  }

  static async open(options: GanPairOptions, backend: InferenceBackend): Promise<GanPair> {
    const pair = new GanPair(options, backend);
    try {
      await pair.check();
    } catch (e) {
      await pair.release();
      throw e;
    }
    return pair;
  }

  /** The generator as a model handle (for forward passes that fetch its layers). */
  get generatorModel(): ConvlensModel {
    return this.generator;
  }

  get classes(): readonly string[] {
    return this.options.classes;
  }

  private async check(): Promise<void> {
    const layers = await this.generator.layers([1, ...this.latent.dims]);
    for (const l of layers)
      if (l.shape.length === 4)
        this.shapes.set(l.tensor, { channels: l.shape[1], height: l.shape[2], width: l.shape[3] });
    const out = layers.find((l) => l.tensor === this.generator.outputNames[0])!;
    if (out.shape.length !== 4 || out.shape[1] !== 3)
      throw new Error(
        `the generator's output "${out.tensor}" has shape [${out.shape}]; expected an RGB image [N, 3, H, W]`,
      );
    this.image = [3, out.shape[2], out.shape[3]];
    const segmenter = this.segmenter;
    if (!segmenter) return;
    const seg = await segmenter.layers([1, ...this.image]);
    const logits = seg.find((l) => l.tensor === segmenter.outputNames[0])!;
    const [, k, h, w] = logits.shape;
    if (logits.shape.length !== 4 || h !== this.image[1] || w !== this.image[2])
      throw new Error(
        `the segmenter's output "${logits.tensor}" has shape [${logits.shape}] for a ${this.image[1]}×${this.image[2]} image; expected per-pixel logits [N, classes, ${this.image[1]}, ${this.image[2]}]`,
      );
    if (k !== this.classes.length)
      throw new Error(
        `the segmenter has ${k} output classes but ${this.classes.length} class names (${this.classes.join(', ')})`,
      );
  }

  /** The shape of a generator layer; throws for a tensor that is not an inner [N, C, H, W] map. */
  layer(name: string): LayerShape {
    const s = this.shapes.get(name);
    if (!s || name === this.generator.outputNames[0]) {
      const spatial = [...this.shapes.keys()].filter((n) => n !== this.generator.outputNames[0]);
      throw new Error(
        `"${name}" is not a spatial layer of the generator; spatial layers: ${spatial.slice(0, 20).join(', ')}`,
      );
    }
    return s;
  }

  /** Class id of a class name; throws naming the segmenter's classes. */
  classIndex(name: string): number {
    const k = this.classes.indexOf(name);
    if (k < 0)
      throw new Error(`the segmenter has no class "${name}"; its classes: ${this.classes.join(', ')}`);
    return k;
  }

  private editedModel(layer: string): ConvlensModel {
    let m = this.edited.get(layer);
    if (!m) {
      m = new ConvlensModel(
        withIntervention(this.options.generator, layer, this.layer(layer)),
        this.backend,
        this.options.session,
      );
      this.edited.set(layer, m);
    }
    return m;
  }

  /**
   * Generate images from latents z ([n · D]), optionally edited, and segment them. `fetch` names
   * generator tensors to return too ([n, …] each).
   */
  async generate(
    z: Float32Array,
    n: number,
    options: { edit?: Edit; fetch?: string[] } = {},
  ): Promise<{ images: Float32Array; classes: Uint8Array; fetched: Record<string, Float32Array> }> {
    const d = this.latent.size;
    if (z.length !== n * d) throw new Error(`expected ${n} latents of size ${d}, got ${z.length} values`);
    const per = this.image[0] * this.image[1] * this.image[2];
    const area = this.image[1] * this.image[2];
    const images = new Float32Array(n * per);
    const classes = new Uint8Array(this.segmenter ? n * area : 0);
    const fetch = options.fetch ?? [];
    const fetched: Record<string, Float32Array> = {};
    const edit = options.edit;
    const model = edit ? this.editedModel(edit.layer) : this.generator;
    const image = this.generator.outputNames[0];
    const b = this.batch;
    for (let start = 0; start < n; start += b) {
      const count = Math.min(b, n - start);
      const chunk = new Float32Array(b * d);
      chunk.set(z.subarray(start * d, (start + count) * d));
      const feeds: Record<string, Tensor> = { [this.latent.name]: float32(chunk, [b, ...this.latent.dims]) };
      if (edit) {
        const s = this.layer(edit.layer);
        const names = interventionInputs(edit.layer);
        feeds[names.mask] = float32(edit.mask, [1, s.channels, s.height, s.width]);
        feeds[names.value] = float32(edit.value, [1, s.channels, 1, 1]);
      }
      const out = await model.run(feeds, { outputs: [image, ...fetch] });
      const pixels = toUnit(out[image].data as Float32Array, this.options.outputRange ?? 'unit');
      images.set(pixels.subarray(0, count * per), start * per);
      for (const f of fetch) {
        const data = out[f].data as Float32Array;
        const size = data.length / b;
        fetched[f] ??= new Float32Array(n * size);
        fetched[f].set(data.subarray(0, count * size), start * size);
      }
      if (this.segmenter)
        classes.set(
          (await this.segmentBatch(pixels, b, this.segmenter)).subarray(0, count * area),
          start * area,
        );
    }
    return { images, classes, fetched };
  }

  /** Per-pixel classes of `n` images [n, 3, H, W] in [0, 1]. */
  private async segmentBatch(pixels: Float32Array, n: number, segmenter: ConvlensModel): Promise<Uint8Array> {
    const [c, h, w] = this.image;
    const { mean, std } = this.options.segmenterPreprocessing ?? { mean: [0], std: [1] };
    const p: Preprocessing = { size: [h, w], channels: 3, resize: 'exact', mean, std };
    const per = c * h * w;
    const area = h * w;
    const x = new Float32Array(pixels.length);
    for (let i = 0; i < n; i++) normalizeInto(pixels.subarray(i * per, (i + 1) * per), c, p, x, i * per);
    const out = await segmenter.run(float32(x, [n, c, h, w]));
    const logits = out[segmenter.outputNames[0]].data as Float32Array;
    return argmaxClasses(logits, n, this.classes.length, area);
  }

  async release(): Promise<void> {
    await this.generator.release();
    await this.segmenter?.release();
    for (const m of this.edited.values()) await m.release();
  }
}

/** Generator pixels in [0, 1]. */
function toUnit(x: Float32Array, range: 'unit' | 'symmetric'): Float32Array {
  if (range === 'unit') return x;
  return x.map((v) => Math.min(1, Math.max(0, (v + 1) / 2)));
}
