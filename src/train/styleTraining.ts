/**
 * Training feed-forward style networks (Johnson et al. 2016, §3; Dumoulin et al. 2017 for several
 * styles in one network): the style network and the perceptual-loss judge are composed into one
 * graph, stylised = T(content, style one-hot), and each step runs forward and backward through the
 * fixed loss network into T's weights in one onnxruntime session, then updates them with Adam.
 * Content comes as random square crops (random scale, mirrored half the time) of the given images;
 * sample i of step k trains style (k·B + i) mod S, so every style gets the same number of samples.
 * Everything random comes from one seed.
 */
import { buildGradientGraph, gradName } from '../autodiff/engine.js';
import type { Preprocessing } from '../data/preprocess.js';
import { sampleBilinear } from '../maths/bilinear.js';
import { Random } from '../maths/random.js';
import {
  PERCEPTUAL,
  type PerceptualLossSpec,
  perceptualLossModel,
  styleTargets,
} from '../methods/synthesis/perceptualLoss.js';
import type { SourceImage } from '../methods/synthesis/texture.js';
import { appendModel } from '../onnx/compose.js';
import { cloneModel, defaultOpset, encodeModel, liftToInputs, type Model } from '../onnx/model.js';
import { makeStatic } from '../onnx/static.js';
import { float32, type Tensor } from '../onnx/tensor.js';
import type { InferenceBackend, SessionOptions } from '../runtime/backend.js';
import type { ConvlensModel } from '../runtime/model.js';
import { Adam, cosineSchedule, parametersOf } from './optimizers.js';
import { STYLE_NETWORK_TENSORS, styleNetwork } from './styleNetwork.js';
import { trainableParameters } from './trainingGraph.js';

export interface StyleTrainingOptions {
  /** The styles, in the order of the network's style weights; [1, 3, H, W] pixels in [0, 1]. */
  styles: readonly SourceImage[];
  /** Content images to crop from, [1, 3, H, W] pixels in [0, 1]. */
  content: readonly SourceImage[];
  /** The fixed loss network (NCHW, RGB) and its preprocessing. */
  lossModel: ConvlensModel;
  preprocessing: Preprocessing;
  loss: PerceptualLossSpec;
  /** Side of the square training crops (default 256). */
  size?: number;
  batchSize?: number;
  steps?: number;
  /** Peak Adam learning rate, decayed by a cosine (default 1e-3, as Johnson et al.). */
  lr?: number;
  width?: number;
  residualBlocks?: number;
  seed?: number;
  /** Call `onSnapshot` every this many steps (0: never). */
  snapshotEvery?: number;
  onSnapshot?(model: Model, step: number): void | Promise<void>;
  onProgress?(p: StyleTrainingProgress): void;
  /** Threads and execution providers of the training session. */
  session?: SessionOptions;
}

export interface StyleTrainingProgress {
  step: number;
  steps: number;
  /** This step's batch: the objective and each term. */
  objective: number;
  terms: Record<string, number>;
  lr: number;
}

export interface StyleTrainingResult {
  /** The trained style network (inputs image, style; output stylized). */
  model: Model;
  history: { step: number; objective: number; loss: number }[];
  seconds: number;
}

const isNormConstant = (name: string) => /^cin\d+_(unit|zero)$/.test(name);

/** The style network's trained weights: conv weights and biases, and each normalisation's Γ and B. */
export function styleNetworkParameters(model: Model): string[] {
  return trainableParameters(model).filter((n) => !isNormConstant(n));
}

/**
 * A random square crop of `image` ([1, C, H, W]), side uniform in [min(size, short side), short
 * side], resized bilinearly to size × size and mirrored with probability 1/2.
 */
export function randomCrop(image: SourceImage, size: number, rng: Random): Float32Array {
  const [h, w] = image.size;
  const c = image.pixels.length / (h * w);
  const short = Math.min(h, w);
  const side = rng.uniform(Math.min(size, short), short);
  const top = rng.uniform(0, h - side);
  const left = rng.uniform(0, w - side);
  const mirror = rng.next() < 0.5;
  const out = new Float32Array(c * size * size);
  const step = side / size;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const sx = left + ((mirror ? size - 1 - x : x) + 0.5) * step - 0.5;
      const sy = top + (y + 0.5) * step - 0.5;
      for (let ch = 0; ch < c; ch++)
        out[(ch * size + y) * size + x] = sampleBilinear(image.pixels, ch, h, w, sx, sy);
    }
  return out;
}

/**
 * Train a network that holds every style in `options.styles`.
 *
 * @example
 * ```ts
 * const { model } = await trainStyleNetwork({
 *   styles: [brick, gravel], content: photos, lossModel: features.model,
 *   preprocessing: features.preprocessing,
 *   loss: { contentLayer: 'rf7', styleLayers: ['rf3', 'rf5', 'rf7', 'rf11'] },
 *   size: 128, steps: 1000,
 * }, nodeBackend());
 * ```
 */
export async function trainStyleNetwork(
  options: StyleTrainingOptions,
  backend: InferenceBackend,
): Promise<StyleTrainingResult> {
  const size = options.size ?? 256;
  const batch = options.batchSize ?? 4;
  const steps = options.steps ?? 2000;
  const lr = options.lr ?? 1e-3;
  const styles = options.styles.length;
  for (const [name, v] of [
    ['size', size],
    ['batchSize', batch],
    ['steps', steps],
  ] as const)
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${name} must be a positive integer, got ${v}`);
  if (size % 4 !== 0) throw new Error(`size must be a multiple of 4 (two stride-2 stages), got ${size}`);
  if (styles === 0) throw new Error('give at least one style image');
  if (options.content.length === 0) throw new Error('give at least one content image');
  if (!(lr > 0)) throw new Error(`lr must be positive, got ${lr}`);

  const lossNet = options.lossModel.model;
  const targets = await styleTargets(
    options.lossModel,
    options.preprocessing,
    options.styles,
    options.loss.styleLayers,
  );
  const judge = perceptualLossModel(lossNet, options.preprocessing, options.loss, targets);
  const net = styleNetwork({
    styles,
    width: options.width,
    residualBlocks: options.residualBlocks,
    seed: options.seed,
    // The judge checked the loss network's opset (≥ 11); the two graphs must share it.
    opset: defaultOpset(lossNet),
  });
  const t = STYLE_NETWORK_TENSORS;
  const composite = cloneModel(net);
  appendModel(composite, judge, {
    prefix: '',
    inputs: { [PERCEPTUAL.candidate]: t.output, [PERCEPTUAL.content]: t.image, [PERCEPTUAL.style]: t.style },
  });
  const termNames = judge.graph.outputs.map((o) => o.name);
  composite.graph.outputs = termNames.map((name) => ({ name }));
  const trainable = styleNetworkParameters(net);
  const s = await makeStatic(
    composite,
    { [t.image]: [batch, 3, size, size], [t.style]: [batch, styles] },
    backend,
  );
  const grad = buildGradientGraph(s, {
    objective: [{ tensor: PERCEPTUAL.objective, weights: float32([1], [1]) }],
    wrt: trainable,
    outputs: termNames,
  });
  const session = await backend.createSession(
    encodeModel(liftToInputs(grad, trainable)).bytes,
    options.session,
  );
  const params = parametersOf(net, trainable);
  const snapshot = () => {
    const m = cloneModel(net);
    for (const q of params) m.graph.initializers.set(q.name, float32(q.value.slice(), q.dims));
    return m;
  };
  const rng = new Random(options.seed ?? 0);
  const optimizer = new Adam();
  const history: StyleTrainingResult['history'] = [];
  const start = performance.now();
  const per = 3 * size * size;
  try {
    for (let step = 0; step < steps; step++) {
      const image = new Float32Array(batch * per);
      const style = new Float32Array(batch * styles);
      for (let i = 0; i < batch; i++) {
        const source = options.content[Math.floor(rng.next() * options.content.length)];
        image.set(randomCrop(source, size, rng), i * per);
        style[i * styles + ((step * batch + i) % styles)] = 1;
      }
      const feeds: Record<string, Tensor> = {
        [t.image]: float32(image, [batch, 3, size, size]),
        [t.style]: float32(style, [batch, styles]),
      };
      for (const q of params) feeds[q.name] = float32(q.value, q.dims);
      const out = await session.run(feeds, [...termNames, ...trainable.map(gradName)]);
      const value = (name: string) => (out[name].data as Float32Array)[0];
      const objective = value(PERCEPTUAL.objective);
      if (!Number.isFinite(objective))
        throw new Error(`style training diverged at step ${step + 1}: the loss is ${objective}; lower --lr`);
      const rate = cosineSchedule(lr, step, steps);
      optimizer.step(
        params,
        trainable.map((name) => out[gradName(name)].data as Float32Array),
        rate,
      );
      history.push({ step: step + 1, objective, loss: value(PERCEPTUAL.loss) });
      options.onProgress?.({
        step: step + 1,
        steps,
        objective,
        terms: Object.fromEntries(termNames.map((n) => [n, value(n)])),
        lr: rate,
      });
      const every = options.snapshotEvery ?? 0;
      if (every > 0 && (step + 1) % every === 0 && step + 1 < steps)
        await options.onSnapshot?.(snapshot(), step + 1);
    }
  } finally {
    await session.release();
  }
  return { model: snapshot(), history, seconds: (performance.now() - start) / 1000 };
}
