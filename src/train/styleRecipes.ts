/**
 * Recipes for shipped style networks, so `convlens style train --recipe NAME` reproduces each one
 * in models/ (deterministic by seed). Paths are relative to the package's assets/photos.
 */
import type { PerceptualLossSpec } from '../methods/synthesis/perceptualLoss.js';

export interface StyleRecipe {
  name: string;
  description: string;
  /** Style images, in the order of the network's style weights. */
  styles: string[];
  /** Content photos the crops come from (the other photos stay held out for evaluation). */
  content: string[];
  /** Longer side the style images are scaled to before their Grams are taken. */
  styleSize: number;
  /** Longer side the content photos are scaled to before cropping. */
  contentSize: number;
  /** The random multi-scale loss network's filter sizes and filters per size. */
  randomFeatures: { sizes: number[]; filters: number; seed: number };
  loss: Required<PerceptualLossSpec>;
  size: number;
  batchSize: number;
  steps: number;
  lr: number;
  width: number;
  residualBlocks: number;
  seed: number;
}

export const STYLE_RECIPES: StyleRecipe[] = [
  {
    name: 'photo-styles',
    description: 'three styles from the bundled photos (a dahlia, a coffee cup, a brick wall) in one network',
    styles: ['flower.jpg', 'coffee.png', 'brick.png'],
    content: ['astronaut.png', 'camera.png', 'rocket.jpg', 'grass.png', 'gravel.png'],
    styleSize: 256,
    contentSize: 256,
    randomFeatures: { sizes: [3, 5, 7, 11], filters: 64, seed: 0 },
    loss: {
      contentLayer: 'rf7',
      styleLayers: ['rf3', 'rf5', 'rf7', 'rf11'],
      contentWeight: 1,
      styleWeight: 2,
      tvWeight: 0.1,
    },
    size: 128,
    batchSize: 4,
    steps: 2000,
    lr: 2e-3,
    width: 16,
    residualBlocks: 5,
    seed: 0,
  },
];

/** Photos no shipped recipe trains on: the held-out set for measuring style networks. */
export const HELD_OUT_PHOTOS = ['chelsea.png', 'china.jpg'];

export function findStyleRecipe(name: string): StyleRecipe {
  const r = STYLE_RECIPES.find((x) => x.name === name);
  if (!r)
    throw new Error(
      `unknown style recipe "${name}"; recipes: ${STYLE_RECIPES.map((x) => x.name).join(', ')}`,
    );
  return r;
}
