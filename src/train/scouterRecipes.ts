/**
 * Recipes for the shipped SCOUTER models, so `convlens scouter train --recipe NAME` reproduces each
 * one in models/: the shipped GAP classifier as the frozen backbone, its last feature map, and the
 * head's settings. Slots and area weights follow Li et al. 2021's MNIST settings (one slot and
 * weight 1 for SCOUTER+, two slots and weight 1.5 for SCOUTER−) except shapes-scouter+'s weight.
 * A class score sums over every position of the feature map, and shapes' map has 256 positions to
 * the digits' 49: at weight 1 its attention spread over most of the image (mean 0.48, 8.5% of its
 * energy on the objects, pointing game 0.59); at 20 it closes on the objects (25% and 0.75) for
 * 1 point of accuracy. shapes-scouter− keeps 1.5: at 30 its accuracy fell from 96.6% to 81.3%.
 */
export interface ScouterRecipe {
  name: string;
  description: string;
  backbone: 'digits-gap' | 'shapes-gap';
  dataset: 'mnist' | 'shapes';
  layer: string;
  lambda: 1 | -1;
  slotsPerClass: number;
  areaWeight: number;
  hidden: number;
  iterations: number;
  epochs: number;
  batchSize: number;
  lr: number;
  fineTune: number;
  seed: number;
}

const base = {
  layer: 'features',
  hidden: 64,
  iterations: 3,
  epochs: 12,
  batchSize: 64,
  lr: 1e-3,
  fineTune: 0,
  seed: 0,
};
const positive = { lambda: 1 as const, slotsPerClass: 1 };
const negative = { lambda: -1 as const, slotsPerClass: 2 };

export const SCOUTER_RECIPES: ScouterRecipe[] = [
  {
    name: 'digits-scouter+',
    description: 'SCOUTER+ on digits-gap (evidence for each digit)',
    backbone: 'digits-gap',
    dataset: 'mnist',
    ...base,
    ...positive,
    areaWeight: 1,
  },
  {
    name: 'digits-scouter-',
    description: 'SCOUTER− on digits-gap (evidence against each digit)',
    backbone: 'digits-gap',
    dataset: 'mnist',
    ...base,
    ...negative,
    areaWeight: 1.5,
  },
  {
    name: 'shapes-scouter+',
    description: 'SCOUTER+ on shapes-gap (evidence for each shape)',
    backbone: 'shapes-gap',
    dataset: 'shapes',
    ...base,
    ...positive,
    areaWeight: 20,
  },
  {
    name: 'shapes-scouter-',
    description: 'SCOUTER− on shapes-gap (evidence against each shape)',
    backbone: 'shapes-gap',
    dataset: 'shapes',
    ...base,
    ...negative,
    areaWeight: 1.5,
  },
];

export function findScouterRecipe(name: string): ScouterRecipe {
  const r = SCOUTER_RECIPES.find((x) => x.name === name);
  if (!r)
    throw new Error(
      `unknown SCOUTER recipe "${name}"; recipes: ${SCOUTER_RECIPES.map((x) => x.name).join(', ')}`,
    );
  return r;
}
