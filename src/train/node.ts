/**
 * Node.js training jobs: train a recipe or a user's image folder, measure test accuracy, and write
 * the model with its card (atomically: an interrupted job leaves no half-written model).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ModelCard, writeCard } from '../data/card.js';
import { type DatasetSplits, holdOut } from '../data/dataset.js';
import { loadDatasetSplits } from '../data/node.js';
import type { Preprocessing } from '../data/preprocess.js';
import { writeModelFile } from '../node.js';
import type { Model } from '../onnx/model.js';
import { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';
import { type Evaluation, evaluate } from './evaluate.js';
import type { Recipe } from './recipes.js';
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

/** Train, evaluate on the test split, write the model with its card to `job.out`. */
export async function runTrainJob(job: TrainJob): Promise<TrainJobResult> {
  const started = performance.now();
  const backend = nodeBackend();
  const splits = job.splits ?? (await loadDatasetSplits(job.dataset, job.preprocessing));
  const { kept, heldOut } = holdOut(splits.train, 0.1);
  const result = await train(
    job.architecture,
    kept,
    { ...job.options, preprocessing: job.preprocessing, validation: heldOut },
    backend,
  );
  const m = new ConvlensModel(result.model, backend);
  const test = await evaluate(m, splits.test, job.preprocessing, { logits: job.options.logits });
  await m.release();
  const seconds = (performance.now() - started) / 1000;
  const { onProgress: _, ...settings } = job.options;
  const card: ModelCard = {
    name: job.name,
    classes: [...splits.train.classes],
    preprocessing: job.preprocessing,
    tensors: job.tensors,
    dataset: job.dataset,
    testAccuracy: test.accuracy,
    testSamples: test.total,
    recipe: job.recipe,
    seed: job.options.seed ?? 0,
    training: {
      ...settings,
      trainSamples: kept.length,
      validationSamples: heldOut.length,
      bestEpoch: result.bestEpoch,
      validationAccuracy: result.valAccuracy,
      seconds: Math.round(seconds),
    },
  };
  writeCard(result.model, card);
  mkdirSync(dirname(job.out), { recursive: true });
  writeModelFile(job.out, result.model);
  return { result, test, card, seconds };
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
