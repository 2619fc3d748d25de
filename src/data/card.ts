/**
 * The model card, kept in the ONNX file's metadata_props under `convlens.card` (JSON), so convlens
 * knows how to feed any model it trained and what its classes are. A user's model gets the same
 * card from flags (--size, --mean, --std, --labels).
 */
import type { Model } from '../onnx/model.js';
import { type Preprocessing, validatePreprocessing } from './preprocess.js';

export const CARD_KEY = 'convlens.card';

export interface ModelCard {
  name: string;
  classes: string[];
  preprocessing: Preprocessing;
  /** Tensor names: the model input, the logits, and (for CAM) the last conv feature map. */
  tensors?: { input?: string; logits?: string; features?: string };
  dataset?: string;
  /** Accuracy on the dataset's test split, in [0, 1], with the number of test samples. */
  testAccuracy?: number;
  testSamples?: number;
  recipe?: string;
  seed?: number;
  /** Free-form training settings (epochs, optimiser, learning rate, ...). */
  training?: Record<string, unknown>;
  /**
   * Box thresholds calibrated per CAM method on a split with boxes (never the test split): the
   * default `localize`, `explain` and `report` use for this model instead of the papers' 0.2 / 0.15.
   */
  localization?: Record<string, BoxCalibration>;
  /** A SCOUTER classifier: its attention tensor explains each class (see src/train/scouter.ts). */
  scouter?: ScouterCard;
  /** A segmenter (per-pixel classes, logits [N, classes, H, W]): its scores on the test split. */
  segmentation?: { pixelAccuracy: number; meanIoU: number; iou: Record<string, number>; testSamples: number };
}

/** How a SCOUTER model explains: λ (+1 evidence for, −1 evidence against) and its tensors. */
export interface ScouterCard {
  lambda: 1 | -1;
  /** [N, classes, h, w] attention per class. */
  attention: string;
  /** [1] mean attention (the area loss before its weight). */
  area: string;
  slotsPerClass: number;
  hidden: number;
  iterations: number;
  areaWeight: number;
}

/** A box threshold chosen on held-out boxes, with the box accuracy it reached there. */
export interface BoxCalibration {
  threshold: number;
  /** The split it was chosen on, e.g. "shapes/validation", and its size. */
  split: string;
  samples: number;
  boxAccuracy: number;
}

/**
 * The calibrated box threshold of each method in a card (empty when it has none).
 * @example
 * calibratedThresholds(readCard(readModelFile('models/shapes-gap.onnx'))); // { gradcam: 0.175, cam: 0.175 }
 */
export function calibratedThresholds(card: ModelCard | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(card?.localization ?? {}).map(([m, c]) => [m, c.threshold]));
}

/** Check a card's fields; throws naming the bad one. */
export function validateCard(card: ModelCard, source = 'model card'): ModelCard {
  if (typeof card !== 'object' || card === null) throw new Error(`${source}: not an object`);
  if (typeof card.name !== 'string' || card.name === '')
    throw new Error(`${source}: name must be a non-empty string`);
  if (
    !Array.isArray(card.classes) ||
    card.classes.length === 0 ||
    card.classes.some((c) => typeof c !== 'string')
  )
    throw new Error(`${source}: classes must be a non-empty list of strings`);
  validatePreprocessing(card.preprocessing);
  if (card.testAccuracy !== undefined && !(card.testAccuracy >= 0 && card.testAccuracy <= 1))
    throw new Error(`${source}: testAccuracy must be in [0, 1], got ${card.testAccuracy}`);
  if (card.scouter && !(card.scouter.lambda === 1 || card.scouter.lambda === -1))
    throw new Error(`${source}: scouter.lambda must be 1 or -1, got ${card.scouter.lambda}`);
  for (const [method, c] of Object.entries(card.localization ?? {}))
    if (!(typeof c?.threshold === 'number' && c.threshold >= 0 && c.threshold <= 1))
      throw new Error(`${source}: localization.${method}.threshold must be in [0, 1], got ${c?.threshold}`);
  return card;
}

/**
 * The JSON stored in a model's metadata under `key`, checked by `validate`; undefined when absent.
 * @example
 * readMetadataJson(model, CARD_KEY, validateCard); // the model card
 */
export function readMetadataJson<T>(
  model: Model,
  key: string,
  validate: (value: T, source: string) => T,
): T | undefined {
  const text = model.metadata?.[key];
  if (text === undefined) return undefined;
  let parsed: T;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`metadata "${key}" is not valid JSON: ${(e as Error).message}`);
  }
  return validate(parsed, `metadata "${key}"`);
}

/** The card stored in a model, or undefined when it has none. */
export function readCard(model: Model): ModelCard | undefined {
  return readMetadataJson(model, CARD_KEY, validateCard);
}

/** Store a card in a model's metadata (in place). */
export function writeCard(model: Model, card: ModelCard): Model {
  validateCard(card);
  model.metadata = { ...(model.metadata ?? {}), [CARD_KEY]: JSON.stringify(card) };
  return model;
}
