import { describe, expect, it } from 'vitest';
import { cardFor, resolveModel } from './common.js';
import { datasetInputs } from './inputs.js';

describe('dataset samples', () => {
  it('take `count` samples with classes in turn, also from a split sorted by class (MNIST)', async () => {
    const { model } = resolveModel('digits-gap');
    const inputs = await datasetInputs('mnist', cardFor(model, {}), 30);
    expect(inputs.stems).toHaveLength(30);
    expect(new Set(inputs.stems).size).toBe(30);
    const perClass = new Array(10).fill(0);
    for (const l of inputs.labels!) perClass[l]++;
    expect(perClass).toEqual(new Array(10).fill(3));
    expect(inputs.input.dims).toEqual([30, 1, 28, 28]);
  });
});
