/**
 * Node jobs for the GAN-dissection models: train the shapes generator or the shapes segmenter from
 * its recipe, measure it, and write it with its card (atomically: an interrupted job leaves no
 * half-written model).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ModelCard, writeCard } from '../data/card.js';
import type { Dataset } from '../data/dataset.js';
import { withGeneratorCard } from '../data/generatorCard.js';
import { preprocessing } from '../data/preprocess.js';
import { shapesDataset } from '../data/shapes.js';
import { writeModelFile } from '../node.js';
import type { Model } from '../onnx/model.js';
import { float32 } from '../onnx/tensor.js';
import type { InferenceBackend, SessionOptions } from '../runtime/backend.js';
import { ConvlensModel } from '../runtime/model.js';
import { GENERATOR_TENSORS, STDDEV_GROUP } from './gan.js';
import { GAN_IMAGE_SIZE, GAN_TRAIN_IMAGES, SHAPES_GAN, SHAPES_SEG } from './ganRecipes.js';
import { type GanProgress, trainGan } from './ganTraining.js';
import { SEGMENTER_TENSORS } from './segmenter.js';
import {
  argmaxClasses,
  pixelLabels,
  type SegmentationScores,
  SegmentationTally,
  trainSegmenter,
} from './segmenterTraining.js';
import { cached } from './trainer.js';

export interface RecipeOverrides {
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  session?: SessionOptions;
}

/** The shapes training split at the GAN's image size, drawn once and kept. */
export const ganTrainingImages = (length = GAN_TRAIN_IMAGES): Dataset =>
  cached({ ...shapesDataset({ size: GAN_IMAGE_SIZE, seed: 1, length }), name: 'shapes/train' });

function save(model: Model, out: string): void {
  mkdirSync(dirname(out), { recursive: true });
  writeModelFile(out, model);
}

/**
 * Train the shapes generator and write it with its generator card.
 *
 * @example
 * ```ts
 * await runGanRecipe('models/shapes-gan.onnx', {}, nodeBackend());
 * ```
 */
export async function runGanRecipe(
  out: string,
  overrides: RecipeOverrides,
  backend: InferenceBackend,
  onProgress?: (p: GanProgress) => void,
): Promise<{ seconds: number; history: GanProgress[] }> {
  const r = SHAPES_GAN;
  const batchSize = overrides.batchSize ?? r.batchSize;
  if (batchSize % STDDEV_GROUP !== 0)
    throw new Error(
      `the batch size must be a multiple of ${STDDEV_GROUP} (minibatch-stddev groups), got ${batchSize}`,
    );
  const settings = {
    steps: overrides.steps ?? r.steps,
    batchSize,
    // --lr sets the generator's rate; the discriminator keeps the recipe's ratio to it.
    generatorLr: overrides.lr ?? r.generatorLr,
    discriminatorLr: overrides.lr ? overrides.lr * (r.discriminatorLr / r.generatorLr) : r.discriminatorLr,
    seed: overrides.seed ?? r.seed,
  };
  const result = await trainGan(
    {
      data: ganTrainingImages(),
      generator: r.generator(),
      discriminator: r.discriminator(),
      ...settings,
      onProgress,
      session: overrides.session,
    },
    backend,
  );
  const model = withShapesGanCard(result.generator, { ...settings, seconds: Math.round(result.seconds) });
  save(model, out);
  return { seconds: result.seconds, history: result.history };
}

/**
 * The shapes generator with its card: tensors, image size and range, its stages, and the
 * training settings given.
 */
export function withShapesGanCard(generator: Model, training: Record<string, unknown>): Model {
  const t = GENERATOR_TENSORS;
  return withGeneratorCard(generator, {
    name: SHAPES_GAN.name,
    latent: { name: t.latent, size: SHAPES_GAN.latent },
    image: { name: t.image, size: [GAN_IMAGE_SIZE, GAN_IMAGE_SIZE], range: 'unit' },
    layers: [...t.layers],
    defaultLayer: SHAPES_GAN.defaultLayer,
    dataset: `shapes/train at ${GAN_IMAGE_SIZE} px (${GAN_TRAIN_IMAGES} images)`,
    training: {
      recipe: SHAPES_GAN.name,
      optimizer: 'adam β1 0.5, β2 0.999',
      loss: 'non-saturating',
      ...training,
    },
  });
}

/** Pixel accuracy and mean IoU of a segmenter on `test` (images in [0, 1], logits [N, K, H, W]). */
export async function scoreSegmenter(
  model: ConvlensModel,
  test: Dataset,
  classes: number,
  batch = 50,
): Promise<SegmentationScores> {
  const [h, w] = [test.height, test.width];
  const area = h * w;
  const per = test.channels * area;
  const tally = new SegmentationTally(classes);
  for (let start = 0; start < test.length; start += batch) {
    const n = Math.min(batch, test.length - start);
    const x = new Float32Array(batch * per);
    const truth: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const s = test.get(start + i);
      x.set(s.image, i * per);
      truth.push(pixelLabels(s, area));
    }
    const out = await model.run(float32(x, [batch, test.channels, h, w]));
    const predicted = argmaxClasses(out[model.outputNames[0]].data as Float32Array, batch, classes, area);
    truth.forEach((t, i) => {
      tally.add(t, predicted.subarray(i * area, (i + 1) * area));
    });
  }
  return tally.scores();
}

/**
 * Train the shapes segmenter, score it on shapes/test at 32 px, and write it with its card.
 *
 * @example
 * ```ts
 * const { scores } = await runSegmenterRecipe('models/shapes-seg.onnx', {}, nodeBackend());
 * ```
 */
export async function runSegmenterRecipe(
  out: string,
  overrides: RecipeOverrides & { testImages?: number },
  backend: InferenceBackend,
  onProgress?: (p: { step: number; steps: number; loss: number }) => void,
): Promise<{ seconds: number; scores: SegmentationScores; card: ModelCard }> {
  const r = SHAPES_SEG;
  const settings = {
    steps: overrides.steps ?? r.steps,
    batchSize: overrides.batchSize ?? r.batchSize,
    lr: overrides.lr ?? r.lr,
    seed: overrides.seed ?? r.seed,
  };
  const trained = await trainSegmenter(
    {
      data: ganTrainingImages(),
      model: r.architecture(),
      ...settings,
      onProgress,
      session: overrides.session,
    },
    backend,
  );
  const testImages = overrides.testImages ?? 2000;
  const test = shapesDataset({ size: GAN_IMAGE_SIZE, seed: 2, length: testImages });
  const m = new ConvlensModel(trained.model, backend);
  const scores = await scoreSegmenter(m, test, r.classes.length).finally(() => m.release());
  const card: ModelCard = {
    name: r.name,
    classes: r.classes,
    preprocessing: preprocessing([GAN_IMAGE_SIZE, GAN_IMAGE_SIZE], 3, 'unit'),
    tensors: { input: SEGMENTER_TENSORS.image, logits: SEGMENTER_TENSORS.logits },
    dataset: 'shapes',
    recipe: r.name,
    seed: settings.seed,
    segmentation: {
      pixelAccuracy: scores.pixelAccuracy,
      meanIoU: scores.meanIoU,
      iou: Object.fromEntries(r.classes.map((c, k) => [c, scores.iou[k]])),
      testSamples: testImages,
    },
    training: { ...settings, optimizer: 'adam, cosine', seconds: Math.round(trained.seconds) },
  };
  save(writeCard(trained.model, card), out);
  return { seconds: trained.seconds, scores, card };
}
