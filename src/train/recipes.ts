/**
 * Recipes for the shipped models: architecture, data, preprocessing and training settings, so
 * `convlens train --recipe NAME` reproduces each model in models/ (deterministic by seed).
 */
import { type Preprocessing, preprocessing } from '../data/preprocess.js';
import type { Model } from '../onnx/model.js';
import { type ConvStage, gapClassifier, vggClassifier } from './architectures.js';
import type { TrainOptions } from './trainer.js';

export interface Recipe {
  name: string;
  description: string;
  /** Built-in dataset the recipe trains and tests on. */
  dataset: 'mnist' | 'shapes';
  architecture: () => Model;
  preprocessing: Preprocessing;
  options: Omit<TrainOptions, 'preprocessing' | 'onProgress' | 'validation'>;
}

/** The conv stack of the shapes models (and of `train --data`): 16 → pool → 32 → pool → 64, 64. */
export function smallConvStages(poolLast: boolean): ConvStage[] {
  return [
    { convs: [16], pool: true },
    { convs: [32], pool: true },
    { convs: [64, 64], pool: poolLast },
  ];
}

/**
 * shapes-gap's stack: one more 64-channel conv at 16×16 than `smallConvStages` (receptive field 34
 * px, the size of a typical main object), picked among variants and seeds by Grad-CAM box accuracy
 * on the validation split (README, "Localisation").
 */
export const SHAPES_GAP_STAGES: ConvStage[] = [
  { convs: [16], pool: true },
  { convs: [32], pool: true },
  { convs: [64, 64, 64], pool: false },
];

/** Training settings shared by the shapes recipes. */
const shapesTraining = (lr: number, seed: number): Recipe['options'] => ({
  epochs: 16,
  batchSize: 64,
  optimizer: { type: 'adam', lr, weightDecay: 1e-4 },
  warmupSteps: 100,
  augmentation: { shift: 4, flip: true },
  seed,
});

export const RECIPES: Recipe[] = [
  {
    name: 'digits-gap',
    description: 'MNIST digits, 5 conv layers → global average pooling → linear (CAM-ready)',
    dataset: 'mnist',
    architecture: () =>
      gapClassifier({
        channels: 1,
        size: [28, 28],
        classes: 10,
        stages: [
          { convs: [16, 32], pool: true },
          { convs: [32, 64], pool: true },
          { convs: [64], pool: false },
        ],
        seed: 1,
      }),
    preprocessing: preprocessing([28, 28], 1, 'unit'),
    options: {
      epochs: 18,
      batchSize: 64,
      optimizer: { type: 'adam', lr: 3e-3, weightDecay: 1e-4 },
      warmupSteps: 100,
      augmentation: { shift: 2, rotate: 10, zoom: 0.1 },
      seed: 1,
    },
  },
  {
    name: 'shapes-gap',
    description: 'shapes 64×64, 5 conv layers → global average pooling → linear (CAM-ready)',
    dataset: 'shapes',
    architecture: () =>
      gapClassifier({ channels: 3, size: [64, 64], classes: 6, stages: SHAPES_GAP_STAGES, seed: 2 }),
    preprocessing: preprocessing([64, 64], 3, 'symmetric'),
    options: shapesTraining(3e-3, 2),
  },
  {
    name: 'shapes-vgg',
    description: 'shapes 64×64, 4 conv layers → flatten → FC 128 → dropout 0.5 → FC (Grad-CAM yes, CAM no)',
    dataset: 'shapes',
    architecture: () =>
      vggClassifier({
        channels: 3,
        size: [64, 64],
        classes: 6,
        stages: smallConvStages(true),
        hidden: 128,
        dropout: 0.5,
        seed: 3,
      }),
    preprocessing: preprocessing([64, 64], 3, 'symmetric'),
    options: shapesTraining(1e-3, 3),
  },
];

export function findRecipe(name: string): Recipe {
  const r = RECIPES.find((x) => x.name === name);
  if (!r) throw new Error(`unknown recipe "${name}"; available: ${RECIPES.map((x) => x.name).join(', ')}`);
  return r;
}
