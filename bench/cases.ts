/** The models the benches run: the shipped ones as their cards describe them. */
import { join } from 'node:path';
import { modelsDir } from '../src/cli/common.js';
import { readCard } from '../src/data/card.js';
import { readModelFile } from '../src/node.js';
import type { Model } from '../src/onnx/model.js';

export interface BenchCase {
  name: string;
  model: Model;
  logits?: string;
  features?: string;
  /** One sample's input dims [C, H, W]. */
  sample: number[];
}

/** A shipped model by name, with its card's tensors and input size. */
export function shippedCase(name: string): BenchCase {
  const model = readModelFile(join(modelsDir(), `${name}.onnx`));
  const card = readCard(model)!;
  return {
    name,
    model,
    logits: card.tensors?.logits,
    features: card.tensors?.features,
    sample: [card.preprocessing.channels, ...card.preprocessing.size],
  };
}
