/**
 * The generator card, kept in a generator's ONNX metadata under `convlens.generator` (JSON): its
 * latent input and size, its image output and pixel range, its named layers, and how it was
 * trained, so `convlens gan` can sample, dissect and edit it without flags.
 */
import type { Model } from '../onnx/model.js';
import { readMetadataJson } from './card.js';

export const GENERATOR_CARD_KEY = 'convlens.generator';

export interface GeneratorCard {
  name: string;
  latent: { name: string; size: number };
  image: { name: string; size: [number, number]; range: 'unit' | 'symmetric' };
  /** The generator's stage outputs, first to last (the layers worth dissecting). */
  layers: string[];
  /** The layer `convlens gan` dissects and edits by default. */
  defaultLayer?: string;
  dataset?: string;
  /** Free-form training settings (steps, batch, lr, seed, time, final losses, …). */
  training?: Record<string, unknown>;
}

/** Check a generator card's fields; throws naming the bad one. */
export function validateGeneratorCard(card: GeneratorCard, source = 'generator card'): GeneratorCard {
  if (typeof card !== 'object' || card === null) throw new Error(`${source}: not an object`);
  if (typeof card.name !== 'string' || card.name === '')
    throw new Error(`${source}: name must be a non-empty string`);
  if (typeof card.latent?.name !== 'string' || !(Number.isInteger(card.latent?.size) && card.latent.size > 0))
    throw new Error(`${source}: latent must be { name, size } with a positive integer size`);
  if (card.image?.range !== 'unit' && card.image?.range !== 'symmetric')
    throw new Error(`${source}: image.range must be "unit" or "symmetric", got ${card.image?.range}`);
  if (!Array.isArray(card.layers) || card.layers.some((l) => typeof l !== 'string'))
    throw new Error(`${source}: layers must be a list of tensor names`);
  return card;
}

/**
 * The generator card stored in a model, or undefined when it has none.
 * @example
 * readGeneratorCard(readModelFile('models/shapes-gan.onnx'))?.latent.size; // 64
 */
export function readGeneratorCard(model: Model): GeneratorCard | undefined {
  return readMetadataJson(model, GENERATOR_CARD_KEY, validateGeneratorCard);
}

/** A copy of the model carrying `card` in its metadata. */
export function withGeneratorCard(model: Model, card: GeneratorCard): Model {
  validateGeneratorCard(card);
  return { ...model, metadata: { ...model.metadata, [GENERATOR_CARD_KEY]: JSON.stringify(card) } };
}
