/**
 * SCOUTER (Li et al. 2021, §3.2): a SCOUTER model's explanation is its own attention. The map for
 * class c is the attention of c's slots over the feature map, read from the forward pass; no
 * gradient is taken. For SCOUTER+ (λ = +1) it is the evidence for c; for SCOUTER− (λ = −1) the
 * evidence against c, so the map of a class that lost answers "why not c".
 */
import { readCard, type ScouterCard } from '../../data/card.js';
import type { Model } from '../../onnx/model.js';
import type { AttributionMethod } from './method.js';
import type { MethodRun } from './pipeline.js';

/**
 * The SCOUTER part of a model's card, or undefined for any other model.
 * @example
 * scouterOf(readModelFile('models/shapes-scouter+.onnx'))?.lambda; // 1
 */
export function scouterOf(model: Model): ScouterCard | undefined {
  return readCard(model)?.scouter;
}

export const NOT_SCOUTER =
  'the model is not a SCOUTER classifier (its card has no "scouter" entry); train one with `convlens scouter train --backbone M --data D`';

export const scouter: AttributionMethod = {
  name: 'scouter',
  title: 'SCOUTER',
  reference: 'Li et al. 2021, §3.2',
  resolution: 'layer',
  needsLayer: false,
  defaults: {},
  async run(run: MethodRun) {
    const e = run.explainer;
    const card = scouterOf(e.model.model);
    if (!card) throw new Error(`scouter: ${NOT_SCOUTER}`);
    if (!run.target.classes)
      throw new Error(`scouter explains classes; target "${run.target.labels[0]}" is not a class`);
    const attention = await e.activations(card.attention, run.input);
    const [n, classes, h, w] = attention.dims;
    const a = attention.data as Float32Array;
    const area = h * w;
    const data = new Float32Array(n * area);
    for (let i = 0; i < n; i++) {
      const c = run.target.classes[i];
      data.set(a.subarray((i * classes + c) * area, (i * classes + c + 1) * area), i * area);
    }
    run.progress(n, n);
    return { data, dims: [n, 1, h, w], params: { lambda: card.lambda } };
  },
};
