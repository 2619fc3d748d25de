/** For tests: load models with onnxruntime-node and release them all after the file's tests. */
import { afterAll } from 'vitest';
import { loadModel } from '../node.js';
import type { ConvlensModel } from './model.js';

/**
 * A loader whose models are released after all tests of the calling file.
 *
 * @example
 * ```ts
 * const load = modelLoader();
 * const m = await load(builder.build([logits]));
 * ```
 */
export function modelLoader(): (model: Parameters<typeof loadModel>[0]) => Promise<ConvlensModel> {
  const models: ConvlensModel[] = [];
  afterAll(async () => {
    await Promise.all(models.map((m) => m.release()));
  });
  return async (model) => {
    const m = await loadModel(model);
    models.push(m);
    return m;
  };
}
