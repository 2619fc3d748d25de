/**
 * Interventions on a generator's units (Bau et al. 2019, "GAN Dissection", §3.2): the layer's
 * output h is replaced, for every consumer, by h' = h + A ⊙ (V − h), where A ∈ [0, 1]^{C×H×W} says
 * where each unit is forced and V ∈ ℝ^C the value it is forced to. Ablation is V = 0 with A = 1 on
 * the ablated units everywhere; insertion is V = a high activation with A = 1 on the inserted
 * units within a region. A = 0 leaves the generator unchanged.
 */
import { Emitter } from '../../../autodiff/emitter.js';
import { cloneModel, type Model } from '../../../onnx/model.js';

/** Names of the fed intervention tensors for a layer. */
export const interventionInputs = (layer: string) => ({
  mask: `gan/intervention_mask:${layer}`,
  value: `gan/intervention_value:${layer}`,
});

/**
 * The generator with layer `layer` ([N, C, H, W]) open to interventions: inputs `mask` [1, C, H, W]
 * (A) and `value` [1, C, 1, 1] (V), see `interventionInputs`.
 *
 * @example
 * ```ts
 * const edited = withIntervention(generator, 'block2', { channels: 64, height: 8, width: 8 });
 * // feed mask = 1 on units 3 and 7 everywhere, value = 0: those units are ablated
 * ```
 */
export function withIntervention(
  model: Model,
  layer: string,
  dims: { channels: number; height: number; width: number },
): Model {
  const m = cloneModel(model);
  const g = m.graph;
  if (!g.nodes.some((n) => n.outputs.includes(layer)))
    throw new Error(`layer "${layer}" is not produced by a node of the generator`);
  if (g.outputs.some((o) => o.name === layer))
    throw new Error(`layer "${layer}" is a graph output; choose an inner layer of the generator`);
  const names = interventionInputs(layer);
  const emit = new Emitter(m.opsets[''] ?? 13, `gan/${layer}`);
  const edited = emit.add(layer, emit.mul(names.mask, emit.sub(names.value, layer)));
  const consumers = g.nodes.filter((n) => n.inputs.includes(layer));
  for (const n of consumers) n.inputs = n.inputs.map((i) => (i === layer ? edited : i));
  const producer = g.nodes.findIndex((n) => n.outputs.includes(layer));
  g.nodes.splice(producer + 1, 0, ...emit.nodes);
  for (const [k, v] of emit.initializers) g.initializers.set(k, v);
  const { channels: c, height: h, width: w } = dims;
  g.inputs.push(
    { name: names.mask, dtype: 'float32', shape: [1, c, h, w] },
    { name: names.value, dtype: 'float32', shape: [1, c, 1, 1] },
  );
  return m;
}
