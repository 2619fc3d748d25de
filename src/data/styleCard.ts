/**
 * The style card, kept in a style network's ONNX metadata under `convlens.style` (JSON): the
 * styles it holds, in the order of its style weights, and how it was trained, so `stylize` can
 * name the styles and a reader can reproduce the network.
 */
import type { Model } from '../onnx/model.js';
import { readMetadataJson } from './card.js';

export const STYLE_CARD_KEY = 'convlens.style';

export interface StyleCard {
  name: string;
  /** One entry per style weight: a short name and the image it was trained on. */
  styles: { name: string; source: string }[];
  /** Side of the square training crops. */
  size: number;
  /** Loss network, layers and weights of the perceptual loss. */
  loss?: Record<string, unknown>;
  /** Free-form training settings (steps, batch, lr, seed, width, time, final loss, …). */
  training?: Record<string, unknown>;
}

/** Check a style card's fields; throws naming the bad one. */
export function validateStyleCard(card: StyleCard, source = 'style card'): StyleCard {
  if (typeof card !== 'object' || card === null) throw new Error(`${source}: not an object`);
  if (typeof card.name !== 'string' || card.name === '')
    throw new Error(`${source}: name must be a non-empty string`);
  if (
    !Array.isArray(card.styles) ||
    card.styles.length === 0 ||
    card.styles.some((s) => typeof s?.name !== 'string' || typeof s?.source !== 'string')
  )
    throw new Error(`${source}: styles must be a non-empty list of { name, source }`);
  if (!(Number.isInteger(card.size) && card.size > 0))
    throw new Error(`${source}: size must be a positive integer, got ${card.size}`);
  return card;
}

/**
 * The style card stored in a model, or undefined when it has none.
 * @example
 * readStyleCard(readModelFile('models/photo-styles.onnx'))?.styles.map((s) => s.name); // ['flower', 'coffee', 'brick']
 */
export function readStyleCard(model: Model): StyleCard | undefined {
  return readMetadataJson(model, STYLE_CARD_KEY, validateStyleCard);
}

/** A copy of the model carrying `card` in its metadata. */
export function withStyleCard(model: Model, card: StyleCard): Model {
  validateStyleCard(card);
  return { ...model, metadata: { ...model.metadata, [STYLE_CARD_KEY]: JSON.stringify(card) } };
}
