/**
 * Node.js training jobs: train a recipe or a user's image folder, measure test accuracy, and write
 * the model with its card (atomically: an interrupted job leaves no half-written model).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type BoxCalibration, type ModelCard, readCard, writeCard } from '../data/card.js';
import type { Dataset, DatasetSplits } from '../data/dataset.js';
import { loadDatasetSplits } from '../data/node.js';
import type { Preprocessing } from '../data/preprocess.js';
import { findGapLinearHead } from '../methods/attribution/head.js';
import { calibrateBoxThreshold } from '../methods/attribution/localizationEval.js';
import { Explainer } from '../methods/attribution/pipeline.js';
import { writeModelFile } from '../node.js';
import { withNchwInput } from '../onnx/layout.js';
import type { Model } from '../onnx/model.js';
import { elementCount, float32 } from '../onnx/tensor.js';
import type { InferenceBackend } from '../runtime/backend.js';
import { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';
import { type Evaluation, evaluate } from './evaluate.js';
import type { Recipe } from './recipes.js';
import { appendGapHead, checkFeatureMap, lastConvParameters } from './retrofit.js';
import { type TrainOptions, type TrainResult, train } from './trainer.js';

export interface TrainJob {
  name: string;
  dataset: string;
  architecture: Model;
  preprocessing: Preprocessing;
  options: Omit<TrainOptions, 'preprocessing' | 'validation'>;
  recipe?: string;
  out: string;
  /** Tensor names for the card. */
  tensors?: ModelCard['tensors'];
  /** Splits to use instead of loading `dataset` (tests pass small ones). */
  splits?: DatasetSplits;
}

export interface TrainJobResult {
  result: TrainResult;
  test: Evaluation;
  card: ModelCard;
  seconds: number;
}

/**
 * Evaluate on the test split, store the card with the measured accuracy, and write the model
 * (atomically, creating the folder).
 */
export async function testAndWrite(
  model: Model,
  test: Dataset,
  card: Omit<ModelCard, 'testAccuracy' | 'testSamples'>,
  out: string,
  backend: InferenceBackend,
): Promise<Evaluation> {
  const m = new ConvlensModel(withNchwInput(model, card.preprocessing.layout), backend);
  const evaluation = await evaluate(m, test, card.preprocessing, { logits: card.tensors?.logits });
  await m.release();
  writeCard(model, { ...card, testAccuracy: evaluation.accuracy, testSamples: evaluation.total });
  mkdirSync(dirname(out), { recursive: true });
  writeModelFile(out, model);
  return evaluation;
}

/** Whether a split has images with ground-truth boxes to calibrate on. */
const hasBoxes = (split: Dataset | undefined): split is Dataset =>
  !!split?.length && !!split.get(0).objects?.length;

/**
 * Box thresholds for the CAM methods a model supports, chosen on a validation split with boxes
 * (CAM only where the model has a GAP → linear head); undefined when the data has no such split.
 */
async function calibrateBoxes(
  model: Model,
  validation: Dataset | undefined,
  card: Pick<ModelCard, 'preprocessing' | 'tensors'>,
  backend: InferenceBackend,
  limit?: number,
): Promise<Record<string, BoxCalibration> | undefined> {
  if (!hasBoxes(validation) || !card.tensors?.features) return undefined;
  const m = new ConvlensModel(withNchwInput(model, card.preprocessing.layout), backend);
  try {
    const out: Record<string, BoxCalibration> = {};
    const { logits, features } = card.tensors;
    const gap = !('reason' in findGapLinearHead(model.graph, features, logits ?? m.outputNames[0]));
    for (const method of gap ? ['gradcam', 'cam'] : ['gradcam'])
      out[method] = await calibrateBoxThreshold(m, validation, card.preprocessing, {
        method,
        logits,
        features,
        limit,
      });
    return out;
  } finally {
    await m.release();
  }
}

/**
 * Train (10% of the training split held out for the best epoch), calibrate box thresholds on the
 * validation split where it has boxes, evaluate on the test split, write the model with its card
 * to `job.out`.
 */
export async function runTrainJob(job: TrainJob): Promise<TrainJobResult> {
  const started = performance.now();
  const backend = nodeBackend();
  const splits = job.splits ?? (await loadDatasetSplits(job.dataset, job.preprocessing));
  const result = await train(
    job.architecture,
    splits.train,
    { ...job.options, preprocessing: job.preprocessing },
    backend,
  );
  const { onProgress: _, ...settings } = job.options;
  const card: Omit<ModelCard, 'testAccuracy' | 'testSamples'> = {
    name: job.name,
    classes: [...splits.train.classes],
    preprocessing: job.preprocessing,
    tensors: job.tensors,
    dataset: job.dataset,
    recipe: job.recipe,
    seed: job.options.seed ?? 0,
    training: {
      ...settings,
      trainSamples: result.trainSamples,
      validationSamples: result.validationSamples,
      bestEpoch: result.bestEpoch,
      validationAccuracy: result.valAccuracy,
      seconds: Math.round((performance.now() - started) / 1000),
    },
  };
  const localization = await calibrateBoxes(result.model, splits.validation, card, backend);
  if (localization) card.localization = localization;
  const test = await testAndWrite(result.model, splits.test, card, job.out, backend);
  return { result, test, card: readCard(result.model)!, seconds: (performance.now() - started) / 1000 };
}

export interface RetrofitJob {
  /** The model to retrofit, its card, and how it was named (for the new card's recipe line). */
  model: Model;
  card: ModelCard;
  source: string;
  /** The conv feature map to keep. */
  layer: string;
  dataset: string;
  out: string;
  epochs: number;
  lr: number;
  batchSize: number;
  /** Also train the last `fineTune` conv layers before the feature map (0: head only). */
  fineTune: number;
  onProgress?: TrainOptions['onProgress'];
}

export interface RetrofitResult {
  /** Test accuracy of the original model, when its classes match the data's. */
  before?: number;
  after: Evaluation;
  channels: number;
  classes: readonly string[];
  trainable: string[];
}

/**
 * CAM retrofit: cut after `layer`, append GAP + linear, train the head (and the last `fineTune`
 * convs) with Adam, and write the model with a card naming `layer` as its features.
 */
export async function runRetrofit(job: RetrofitJob): Promise<RetrofitResult> {
  const backend = nodeBackend();
  // A channels-last model is cut and extended behind an NCHW input: the result takes NCHW.
  const { layout, ...p } = job.card.preprocessing;
  const original = new ConvlensModel(withNchwInput(job.model, layout), backend);
  const layers = await original.layers([1, p.channels, ...p.size]);
  const channels = checkFeatureMap(original.model, layers, job.layer);
  const splits = await loadDatasetSplits(job.dataset, p);
  const classes = splits.train.classes;
  const logits = job.card.tensors?.logits ?? original.outputNames[0];
  const outDims = layers.find((l) => l.tensor === logits)?.shape;
  const before =
    outDims?.length === 2 && outDims[1] === classes.length
      ? (await evaluate(original, splits.test, p, { logits })).accuracy
      : undefined;
  await original.release();

  const head = appendGapHead(original.model, job.layer, channels, classes.length);
  const { result, trainable } = await trainHead(
    { model: head.model, logits: head.logits, params: [head.weight, head.bias] },
    splits.train,
    { ...job, preprocessing: p, seed: 0 },
    backend,
  );
  const tensors = { input: result.model.graph.inputs[0].name, logits: head.logits, features: head.features };
  const localization = await calibrateBoxes(
    result.model,
    splits.validation,
    { preprocessing: p, tensors },
    backend,
  );
  const { localization: _, ...card } = job.card;
  const after = await testAndWrite(
    result.model,
    splits.test,
    {
      ...card,
      preprocessing: p,
      ...(localization ? { localization } : {}),
      name: `${job.card.name}-gap`,
      classes: [...classes],
      tensors,
      dataset: job.dataset,
      recipe: `retrofit of ${job.source} at ${job.layer}`,
      seed: 0,
      training: {
        epochs: job.epochs,
        lr: job.lr,
        fineTune: job.fineTune,
        trainable,
        bestEpoch: result.bestEpoch,
      },
    },
    job.out,
    backend,
  );
  return { before, after, channels, classes, trainable };
}

/** How a new head on a backbone's feature map trains (CAM retrofit, SCOUTER). */
export interface HeadTraining {
  preprocessing: Preprocessing;
  /** The feature map the head reads; `fineTune` convs before it train too. */
  layer: string;
  fineTune: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  warmupSteps?: number;
  auxiliary?: TrainOptions['auxiliary'];
  onProgress?: TrainOptions['onProgress'];
}

/**
 * Train a head's parameters (and the last `fineTune` convs before its feature map) with Adam,
 * the backbone otherwise frozen.
 */
export async function trainHead(
  head: { model: Model; logits: string; params: string[] },
  data: Dataset,
  o: HeadTraining,
  backend: InferenceBackend,
): Promise<{ result: TrainResult; trainable: string[] }> {
  const trainable = [
    ...head.params,
    ...(o.fineTune > 0 ? lastConvParameters(head.model, o.layer, o.fineTune) : []),
  ];
  const result = await train(
    head.model,
    data,
    {
      preprocessing: o.preprocessing,
      logits: head.logits,
      epochs: o.epochs,
      batchSize: o.batchSize,
      optimizer: { type: 'adam', lr: o.lr, weightDecay: 0 },
      warmupSteps: o.warmupSteps,
      trainable,
      auxiliary: o.auxiliary,
      seed: o.seed,
      onProgress: o.onProgress,
    },
    backend,
  );
  return { result, trainable };
}

export interface CalibrationJob {
  model: Model;
  card: ModelCard;
  /** A dataset with a validation split with boxes (shapes). */
  dataset: string;
  /** The feature map to calibrate at (default: the card's, else the last one before the head). */
  layer?: string;
  /** Calibrate on the first `limit` validation images (default: all). */
  limit?: number;
  out: string;
}

/**
 * Choose the model's CAM box thresholds on the dataset's validation split (`calibrateBoxes`) and
 * write the model to `job.out` with them in its card; the weights are unchanged.
 */
export async function runCalibration(job: CalibrationJob): Promise<Record<string, BoxCalibration>> {
  const backend = nodeBackend();
  const splits = await loadDatasetSplits(job.dataset, job.card.preprocessing);
  if (!hasBoxes(splits.validation))
    throw new Error(
      `data "${job.dataset}" has no validation split with boxes to calibrate on (shapes has one)`,
    );
  const classes = splits.validation.classes;
  if (job.card.classes.length > 0 && job.card.classes.join('\n') !== classes.join('\n'))
    throw new Error(
      `the model's classes (${job.card.classes.join(', ')}) are not the data's (${classes.join(', ')})`,
    );
  const p = job.card.preprocessing;
  const m = new ConvlensModel(withNchwInput(job.model, p.layout), backend);
  const explainer = new Explainer(
    m,
    float32(new Float32Array(elementCount([p.channels, ...p.size])), [1, p.channels, ...p.size]),
    { logits: job.card.tensors?.logits, features: job.card.tensors?.features },
  );
  const [features, scores] = await Promise.all([
    explainer.resolveLayer(job.layer),
    explainer.sampleDims(explainer.logits),
  ]).finally(() => m.release());
  if (scores.length !== 1 || scores[0] !== classes.length)
    throw new Error(
      `the model's output "${explainer.logits}" has shape [1, ${scores.join(', ')}], not one score per class of "${job.dataset}" (${classes.length})`,
    );
  const card = { ...job.card, tensors: { ...job.card.tensors, features } };
  // Defined: the split has boxes and the card names the feature map.
  const localization = (await calibrateBoxes(job.model, splits.validation, card, backend, job.limit))!;
  writeCard(job.model, { ...card, localization });
  mkdirSync(dirname(job.out), { recursive: true });
  writeModelFile(job.out, job.model);
  return localization;
}

/** The job for a recipe. */
export function recipeJob(
  recipe: Recipe,
  out: string,
  overrides: Partial<TrainJob['options']> = {},
): TrainJob {
  return {
    name: recipe.name,
    dataset: recipe.dataset,
    architecture: recipe.architecture(),
    preprocessing: recipe.preprocessing,
    options: { ...recipe.options, ...overrides },
    recipe: recipe.name,
    out,
    tensors: { input: 'input', logits: 'logits', features: 'features' },
  };
}
