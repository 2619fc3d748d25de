/** Worker side of the Layers view: the filter behind a channel and a live feature visualisation of it. */
import type { Preprocessing } from '../../data/preprocess.js';
import { convLayers, filterWeights } from '../../methods/inspect/filters.js';
import { parseObjective } from '../../methods/synthesis/objective.js';
import { synthesize } from '../../methods/synthesis/synthesize.js';
import { producers } from '../../onnx/graph.js';
import type { Model } from '../../onnx/model.js';
import { rgbaFromRgb, rgbFromPlanar } from '../../render/image.js';
import type { ConvlensModel } from '../../runtime/model.js';
import type { Filter } from './protocol.js';

/** Ops that keep channel k of their input as channel k of their output. */
const PER_CHANNEL = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Elu',
  'Selu',
  'Clip',
  'Sigmoid',
  'Tanh',
  'HardSigmoid',
  'HardSwish',
  'Softplus',
  'BatchNormalization',
  'InstanceNormalization',
  'Identity',
  'Dropout',
]);

/**
 * The Conv filter whose output becomes channel `channel` of `layer`, following the layer back
 * through per-channel ops (ReLU, BatchNorm, …); a reason when there is none.
 */
export function filterOf(model: Model, layer: string, channel: number): { filter?: Filter; why?: string } {
  const producer = producers(model.graph);
  const convs = new Map(convLayers(model.graph).map((c) => [c.output, c]));
  let tensor = layer;
  for (let hops = 0; hops < 16; hops++) {
    const conv = convs.get(tensor);
    if (conv) {
      const w = filterWeights(model.graph, conv);
      const [out, ...rest] = w.dims;
      if (channel >= out)
        return { why: `channel ${channel} is out of range: ${conv.node} has ${out} filters` };
      const per = rest.reduce((a, b) => a * b, 1);
      return {
        filter: {
          conv: conv.node || conv.output,
          dims: rest,
          data: w.data.slice(channel * per, (channel + 1) * per),
        },
      };
    }
    const node = producer.get(tensor);
    if (!node || !PER_CHANNEL.has(node.opType))
      return {
        why: `"${layer}" is not the output of a Conv with stored weights${node ? ` (it comes from ${node.opType} "${node.name}")` : ''}`,
      };
    tensor = node.inputs[0];
  }
  return { why: `"${layer}" is too far from a Conv` };
}

/** Channel visualisation as `convlens visualize --layer` does it, at interactive length. */
export async function visualizeChannel(
  model: ConvlensModel,
  preprocessing: Preprocessing,
  logits: string,
  request: { layer: string; channel: number; steps: number },
  onStep: (step: number, steps: number) => void,
) {
  const terms = parseObjective(`channel:${request.layer}:${request.channel}`, logits);
  const r = await synthesize(model, preprocessing, terms, {
    steps: request.steps,
    lr: 0.05,
    jitter: 1,
    l2: 0.02,
    tv: 0.5,
    blurEvery: 4,
    seed: 0,
    onStep: (p) => onStep(p.step + 1, p.steps),
  });
  const [h, w] = preprocessing.size;
  return {
    image: rgbaFromRgb(rgbFromPlanar(r.pixels, preprocessing.channels, h, w)),
    objective: [r.trace[0].objective, r.trace.at(-1)!.objective] as [number, number],
    ms: r.ms,
  };
}
