/**
 * Minibatch training of an ONNX classifier on the autodiff engine: each step runs the training
 * graph (forward + backward in one onnxruntime session) and updates the weights in TypeScript.
 * Everything random (shuffling, augmentation, dropout) comes from one seed.
 */
import { type Augmentation, augmenter } from '../data/augment.js';
import { type Dataset, holdOut } from '../data/dataset.js';
import { batchTensor, type Preprocessing } from '../data/preprocess.js';
import { permutation, Random } from '../maths/random.js';
import { cloneModel, encodeModel, liftToInputs, type Model } from '../onnx/model.js';
import { float32, type Tensor } from '../onnx/tensor.js';
import type { InferenceBackend, InferenceSession } from '../runtime/backend.js';
import { argmax, scoreDataset } from './evaluate.js';
import { Adam, cosineSchedule, type Optimizer, type Parameter, Sgd } from './optimizers.js';
import { type AuxiliaryLoss, buildTrainingGraph, trainableParameters } from './trainingGraph.js';

export type OptimizerSpec =
  | { type: 'adam'; lr: number; weightDecay?: number; beta1?: number; beta2?: number }
  | { type: 'sgd'; lr: number; momentum?: number; weightDecay?: number; nesterov?: boolean };

export interface TrainOptions {
  preprocessing: Preprocessing;
  /** Tensor holding the [batch, classes] logits (default: the model's first output). */
  logits?: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerSpec;
  /** Warm-up steps before cosine decay (default: 0). */
  warmupSteps?: number;
  augmentation?: Augmentation;
  /** Held-out data for checkpointing; default: every tenth training sample. */
  validation?: Dataset;
  /** Parameters to update (default: every weight, see trainableParameters). */
  trainable?: string[];
  /** Terms added to the cross-entropy, weight · Σ tensor (e.g. SCOUTER's area loss). */
  auxiliary?: AuxiliaryLoss[];
  seed?: number;
  onProgress?: (event: TrainProgress) => void;
}

export interface TrainProgress {
  phase: 'train' | 'validate';
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** Running mean loss and accuracy over the epoch so far. */
  loss: number;
  accuracy: number;
  lr: number;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  valAccuracy: number;
  seconds: number;
}

export interface TrainResult {
  /** The model with the weights of the best validation epoch. */
  model: Model;
  history: EpochStats[];
  bestEpoch: number;
  valAccuracy: number;
  trainSamples: number;
  validationSamples: number;
}

export function makeOptimizer(spec: OptimizerSpec): Optimizer {
  if (spec.type === 'adam') return new Adam(spec);
  if (spec.type === 'sgd') return new Sgd(spec);
  throw new Error(`unknown optimizer "${(spec as { type: string }).type}"; allowed: adam, sgd`);
}

export { permutation };

/** A dataset whose samples are drawn once and kept (procedural datasets are costly to redraw each epoch). */
export function cached(data: Dataset): Dataset {
  const memo = new Array(data.length);
  return { ...data, get: (i) => (memo[i] ??= data.get(i)) };
}

/**
 * Train `model` (input NCHW, logits [batch, classes]) on `data`.
 *
 * @example
 * ```ts
 * const { train } = loadMnist();
 * const result = await train(digitsGap(), train, {
 *   preprocessing: preprocessing([28, 28], 1), epochs: 2, batchSize: 64,
 *   optimizer: { type: 'adam', lr: 2e-3 },
 * }, nodeBackend());
 * ```
 */
export async function train(
  model: Model,
  data: Dataset,
  options: TrainOptions,
  backend: InferenceBackend,
): Promise<TrainResult> {
  const p = options.preprocessing;
  const rng = new Random(options.seed ?? 0);
  const logits = options.logits ?? model.graph.outputs[0].name;
  if (!(options.epochs >= 1) || !Number.isInteger(options.epochs))
    throw new Error(`epochs must be a positive integer, got ${options.epochs}`);
  if (!(options.batchSize >= 1) || !Number.isInteger(options.batchSize))
    throw new Error(`batchSize must be a positive integer, got ${options.batchSize}`);
  let trainData = data;
  let valData = options.validation;
  if (!valData) {
    const split = holdOut(data, 0.1);
    trainData = split.kept;
    valData = split.heldOut;
  }
  if (trainData.length === 0) throw new Error(`dataset "${data.name}" is empty`);
  trainData = cached(trainData);
  valData = cached(valData);
  const batch = Math.min(options.batchSize, trainData.length);

  const trainable = options.trainable ?? trainableParameters(model);
  if (trainable.length === 0) throw new Error('the model has no trainable parameters');
  const tg = await buildTrainingGraph(
    model,
    { inputShape: [batch, p.channels, ...p.size], logits, trainable, auxiliary: options.auxiliary },
    backend,
  );
  const classes = tg.classes;
  if (data.classes.length > 0 && data.classes.length !== classes)
    throw new Error(
      `dataset "${data.name}" has ${data.classes.length} classes; the model's logits have ${classes}`,
    );
  const params: Parameter[] = tg.params.map((q) => ({
    name: q.name,
    dims: q.dims,
    value: Float32Array.from(model.graph.initializers.get(q.name)!.data as Float32Array),
  }));
  const session = await backend.createSession(encodeModel(tg.model).bytes);
  const evaluator = await forwardSession(model, logits, trainable, backend);
  const input = model.graph.inputs[0].name;
  const validate = () =>
    scoreDataset(valData, p, 100, async (x) => {
      const feeds: Record<string, Tensor> = { [input]: x };
      for (const q of params) feeds[q.name] = float32(q.value, q.dims);
      return (await evaluator.run(feeds, [logits]))[logits].data as Float32Array;
    });
  const optimizer = makeOptimizer(options.optimizer);
  const augment = augmenter(
    options.augmentation ?? {},
    trainData.channels,
    trainData.height,
    trainData.width,
    rng,
  );
  const stepsPerEpoch = Math.floor(trainData.length / batch);
  const totalSteps = stepsPerEpoch * options.epochs;
  const history: EpochStats[] = [];
  let best = { epoch: 0, accuracy: -1, values: params.map((q) => q.value.slice()) };

  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const start = performance.now();
      const order = permutation(trainData.length, rng);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        const indices = order.slice(step * batch, (step + 1) * batch);
        const { input, labels } = batchTensor(trainData, indices, p, (image) => augment(image));
        const feeds: Record<string, Tensor> = {
          [tg.input]: input,
          [tg.seed]: crossEntropySeed(labels, classes),
        };
        for (const m of tg.masks) feeds[m.name] = dropoutMask(m.dims, m.ratio, rng);
        params.forEach((q) => {
          feeds[q.name] = float32(q.value, q.dims);
        });
        const out = await session.run(feeds, [tg.logprob, ...tg.params.map((q) => q.grad)]);
        const logprob = out[tg.logprob].data as Float32Array;
        const stats = batchStats(logprob, labels, classes);
        if (!Number.isFinite(stats.loss))
          throw new Error(
            `training diverged at epoch ${epoch}, step ${step + 1}: loss is ${stats.loss}; lower the learning rate`,
          );
        lossSum += stats.loss * labels.length;
        correct += stats.correct;
        seen += labels.length;
        const lr = cosineSchedule(
          options.optimizer.lr,
          (epoch - 1) * stepsPerEpoch + step,
          totalSteps,
          options.warmupSteps ?? 0,
        );
        optimizer.step(
          params,
          tg.params.map((q) => out[q.grad].data as Float32Array),
          lr,
        );
        options.onProgress?.({
          phase: 'train',
          epoch,
          epochs: options.epochs,
          step: step + 1,
          steps: stepsPerEpoch,
          loss: lossSum / seen,
          accuracy: correct / seen,
          lr,
        });
      }
      const valAccuracy = (await validate()).accuracy;
      history.push({
        epoch,
        loss: lossSum / seen,
        trainAccuracy: correct / seen,
        valAccuracy,
        seconds: (performance.now() - start) / 1000,
      });
      options.onProgress?.({
        phase: 'validate',
        epoch,
        epochs: options.epochs,
        step: stepsPerEpoch,
        steps: stepsPerEpoch,
        loss: lossSum / seen,
        accuracy: valAccuracy,
        lr: 0,
      });
      if (valAccuracy > best.accuracy)
        best = { epoch, accuracy: valAccuracy, values: params.map((q) => q.value.slice()) };
    }
  } finally {
    await session.release();
    await evaluator.release();
  }
  const trained = cloneModel(model);
  tg.params.forEach((q, k) => {
    trained.graph.initializers.set(q.name, float32(best.values[k], q.dims));
  });
  return {
    model: trained,
    history,
    bestEpoch: best.epoch,
    valAccuracy: best.accuracy,
    trainSamples: trainData.length,
    validationSamples: valData.length,
  };
}

/** The seed −onehot/B: with it the objective Σ seed·log p is the mean cross-entropy. */
export function crossEntropySeed(labels: Int32Array, classes: number): Tensor {
  const seed = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => {
    if (l < 0 || l >= classes) throw new Error(`label ${l} outside 0..${classes - 1}`);
    seed[i * classes + l] = -1 / labels.length;
  });
  return float32(seed, [labels.length, classes]);
}

/** Inverted dropout: each element kept with probability 1 − ratio and scaled by 1/(1 − ratio). */
function dropoutMask(dims: number[], ratio: number, rng: Random): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const mask = new Float32Array(n);
  const keep = 1 / (1 - ratio);
  for (let i = 0; i < n; i++) mask[i] = rng.next() >= ratio ? keep : 0;
  return float32(mask, dims);
}

/** Mean cross-entropy and number of correct top-1 predictions from log-probabilities. */
export function batchStats(
  logprob: Float32Array,
  labels: Int32Array,
  classes: number,
): { loss: number; correct: number } {
  let loss = 0;
  let correct = 0;
  labels.forEach((l, i) => {
    const row = logprob.subarray(i * classes, (i + 1) * classes);
    loss -= row[l];
    if (argmax(row) === l) correct++;
  });
  return { loss: loss / labels.length, correct };
}

/** A forward session whose weights are inputs, so evaluation during training needs no rebuild. */
async function forwardSession(
  model: Model,
  logits: string,
  params: string[],
  backend: InferenceBackend,
): Promise<InferenceSession> {
  const m = liftToInputs(model, params);
  m.graph.outputs = [{ name: logits }];
  return backend.createSession(encodeModel(m).bytes);
}
