import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../onnx/builder.js';
import { decodeModel, encodeModel } from '../onnx/model.js';
import { CARD_KEY, calibratedThresholds, type ModelCard, readCard, writeCard } from './card.js';
import { preprocessing } from './preprocess.js';

const card: ModelCard = {
  name: 'digits-gap',
  classes: ['0', '1', '2'],
  preprocessing: preprocessing([28, 28], 1, 'unit'),
  tensors: { input: 'input', logits: 'logits', features: 'features' },
  dataset: 'mnist',
  testAccuracy: 0.9876,
  testSamples: 2005,
  recipe: 'digits-gap',
  seed: 1,
  training: { epochs: 3, optimizer: { type: 'adam', lr: 0.003 } },
  localization: { gradcam: { threshold: 0.2, split: 'shapes/validation', samples: 2000, boxAccuracy: 0.9 } },
};

const tiny = () => {
  const b = new GraphBuilder();
  return b.build([b.relu(b.input('input', [1, 3]))], { author: 'me' });
};

describe('model card', () => {
  it('round-trips through an encoded ONNX file, keeping other metadata', () => {
    const m = writeCard(tiny(), card);
    const back = decodeModel(encodeModel(m).bytes);
    expect(readCard(back)).toEqual(card);
    expect(back.metadata.author).toBe('me');
  });

  it('is absent from a model without one', () => {
    expect(readCard(tiny())).toBeUndefined();
  });

  it('lists calibrated box thresholds by method', () => {
    expect(calibratedThresholds(card)).toEqual({ gradcam: 0.2 });
    expect(calibratedThresholds({ ...card, localization: undefined })).toEqual({});
    expect(calibratedThresholds(undefined)).toEqual({});
  });

  it.each([
    [{ ...card, classes: [] }, /classes must be a non-empty list/],
    [{ ...card, name: '' }, /name must be a non-empty string/],
    [{ ...card, testAccuracy: 98.7 }, /testAccuracy must be in \[0, 1\]/],
    [
      { ...card, localization: { cam: { ...card.localization!.gradcam, threshold: 20 } } },
      /localization.cam.threshold must be in \[0, 1\], got 20/,
    ],
    [{ ...card, preprocessing: { ...card.preprocessing, channels: 2 } }, /channels must be 1 or 3/],
    [
      { ...card, preprocessing: { ...card.preprocessing, mean: [0, 0] } },
      /mean must hold 1 or 1 finite numbers/,
    ],
    [{ ...card, preprocessing: { ...card.preprocessing, std: [0] } }, /std must not be 0/],
    [
      { ...card, preprocessing: { ...card.preprocessing, resize: 'stretch' } },
      /resize "stretch" is not one of exact, center-crop/,
    ],
  ])('rejects a bad card (%#)', (bad, message) => {
    expect(() => writeCard(tiny(), bad as ModelCard)).toThrow(message);
  });

  it('names the key when the stored JSON is broken', () => {
    const m = tiny();
    m.metadata[CARD_KEY] = '{oops';
    expect(() => readCard(m)).toThrow(/metadata "convlens.card" is not valid JSON/);
  });
});
