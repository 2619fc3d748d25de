/**
 * Recipes for the shipped SCOUTER models, so `convlens scouter train --recipe NAME` reproduces each
 * one in models/: the shipped GAP classifier as the frozen backbone, its last feature map, and the
 * head's settings (Li et al. 2021's MNIST settings: one slot per class and area weight 1 for
 * SCOUTER+, two slots per class and area weight 1.5 for SCOUTER−).
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
const positive = { lambda: 1 as const, slotsPerClass: 1, areaWeight: 1 };
const negative = { lambda: -1 as const, slotsPerClass: 2, areaWeight: 1.5 };

export const SCOUTER_RECIPES: ScouterRecipe[] = [
  {
    name: 'digits-scouter+',
    description: 'SCOUTER+ on digits-gap (evidence for each digit)',
    backbone: 'digits-gap',
    dataset: 'mnist',
    ...base,
    ...positive,
  },
  {
    name: 'digits-scouter-',
    description: 'SCOUTER− on digits-gap (evidence against each digit)',
    backbone: 'digits-gap',
    dataset: 'mnist',
    ...base,
    ...negative,
  },
  {
    name: 'shapes-scouter+',
    description: 'SCOUTER+ on shapes-gap (evidence for each shape)',
    backbone: 'shapes-gap',
    dataset: 'shapes',
    ...base,
    ...positive,
  },
  {
    name: 'shapes-scouter-',
    description: 'SCOUTER− on shapes-gap (evidence against each shape)',
    backbone: 'shapes-gap',
    dataset: 'shapes',
    ...base,
    ...negative,
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
