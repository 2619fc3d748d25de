/**
 * Recipes of the shipped GAN-dissection models, so `convlens train --recipe shapes-gan` and
 * `--recipe shapes-seg` reproduce models/shapes-gan.onnx and models/shapes-seg.onnx
 * (deterministic by seed): a 32×32 generator of shapes images and the segmenter that labels its
 * pixels, both trained on the shapes training split drawn at 32 px.
 */
import { SHAPE_CLASSES } from '../data/shapes.js';
import type { Model } from '../onnx/model.js';
import { shapesDiscriminator, shapesGenerator } from './gan.js';
import { SEGMENTER_BACKGROUND, unetSegmenter } from './segmenter.js';

/** Side of the images both models work at. */
export const GAN_IMAGE_SIZE = 32;
/** Training images (shapes/train at 32 px, cached in memory). */
export const GAN_TRAIN_IMAGES = 10000;

export interface GanRecipe {
  name: 'shapes-gan';
  description: string;
  latent: number;
  /** The layer dissected and edited by default. */
  defaultLayer: string;
  generator: () => Model;
  discriminator: () => Model;
  steps: number;
  batchSize: number;
  /** Adam learning rates of the generator and the discriminator (two time-scale updates). */
  generatorLr: number;
  discriminatorLr: number;
  seed: number;
}

export interface SegmenterRecipe {
  name: 'shapes-seg';
  description: string;
  classes: string[];
  architecture: () => Model;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
}

export const SHAPES_GAN: GanRecipe = {
  name: 'shapes-gan',
  description: 'shapes 32×32 generator: z ∈ ℝ⁶⁴ → 4×4×128 → three ×2 upsample + conv stages → RGB',
  latent: 64,
  defaultLayer: 'block3',
  generator: () => shapesGenerator({ latent: 64, width: 128, seed: 1 }),
  discriminator: () => shapesDiscriminator({ width: 32, seed: 2 }),
  steps: 5000,
  batchSize: 64,
  generatorLr: 1e-4,
  discriminatorLr: 4e-4,
  seed: 0,
};

export const SHAPES_SEG: SegmenterRecipe = {
  name: 'shapes-seg',
  description: 'shapes 32×32 segmenter: a small U-Net, per-pixel background + six shapes',
  classes: [SEGMENTER_BACKGROUND, ...SHAPE_CLASSES],
  architecture: () => unetSegmenter({ classes: 1 + SHAPE_CLASSES.length, width: 32, seed: 4 }),
  steps: 2000,
  batchSize: 32,
  lr: 2e-3,
  seed: 0,
};

export const GAN_RECIPE_NAMES = [SHAPES_GAN.name, SHAPES_SEG.name] as const;
