/**
 * CAM retrofit: cut a CNN after a conv feature map, append global average pooling and a new linear
 * classifier, so CAM applies (Zhou et al. 2016, §2: "we perform global average pooling on the
 * convolutional feature maps and use those as features for a fully-connected layer").
 */

import { Random } from '../maths/random.js';
import { featureMapsOf, notAFeatureMap } from '../methods/attribution/featureMaps.js';
import { freshNamer, nearestNames, producers } from '../onnx/graph.js';
import { cloneModel, type Model } from '../onnx/model.js';
import { pruneDeadNodes } from '../onnx/static.js';
import { float32 } from '../onnx/tensor.js';
import type { LayerInfo } from '../runtime/model.js';

export interface GapHead {
  model: Model;
  /** The feature map CAM weights. */
  features: string;
  logits: string;
  /** The new classifier's weight [classes, channels] and bias. */
  weight: string;
  bias: string;
}

/** Check that `layer` is a feature map [N, C, H, W] of `model` (see featureMapsOf); returns its channel count. */
export function checkFeatureMap(model: Model, layers: readonly LayerInfo[], layer: string): number {
  const info = layers.find((l) => l.tensor === layer);
  const maps = featureMapsOf(model, layers);
  if (!info)
    throw new Error(
      `layer "${layer}" not found; nearest: ${nearestNames(
        layer,
        layers.map((l) => l.tensor),
      ).join(', ')}`,
    );
  if (!maps.includes(info)) {
    const near = nearestNames(
      layer,
      maps.map((l) => l.tensor),
    );
    throw new Error(`${notAFeatureMap(info)}; feature maps near it: ${near.join(', ') || 'none'}`);
  }
  return info.shape[1];
}

/** The model cut after `features` with GAP → Flatten → Gemm(classes) appended (weights ~ U(±1/√C)). */
export function appendGapHead(
  model: Model,
  features: string,
  channels: number,
  classes: number,
  seed = 0,
): GapHead {
  const m = cloneModel(model);
  const g = m.graph;
  g.outputs = [{ name: features }];
  pruneDeadNodes(m);
  const fresh = freshNamer(g);
  const gap = fresh('gap');
  const pooled = fresh('gap_pooled');
  const logits = fresh('logits');
  const weight = fresh('cam_classifier_w');
  const bias = fresh('cam_classifier_b');
  const rng = new Random(seed);
  const bound = 1 / Math.sqrt(channels);
  g.initializers.set(
    weight,
    float32(
      Array.from({ length: classes * channels }, () => rng.uniform(-bound, bound)),
      [classes, channels],
    ),
  );
  g.initializers.set(bias, float32(new Float32Array(classes), [classes]));
  const node = (
    opType: string,
    inputs: string[],
    output: string,
    attrs: Model['graph']['nodes'][number]['attrs'] = {},
  ) => g.nodes.push({ name: output, opType, domain: '', inputs, outputs: [output], attrs });
  node('GlobalAveragePool', [features], pooled);
  node('Flatten', [pooled], gap, { axis: { type: 'int', value: 1 } });
  node('Gemm', [gap, weight, bias], logits, { transB: { type: 'int', value: 1 } });
  g.outputs = [{ name: logits }];
  return { model: m, features, logits, weight, bias };
}

/**
 * The weights and biases of the last `count` Conv nodes upstream of `tensor` (nearest first), for
 * fine-tuning the last block.
 */
export function lastConvParameters(model: Model, tensor: string, count = 1): string[] {
  const prod = producers(model.graph);
  const inits = model.graph.initializers;
  const found: string[] = [];
  const visited = new Set<string>();
  const queue = [tensor];
  let convs = 0;
  while (queue.length && convs < count) {
    const n = prod.get(queue.shift()!);
    if (!n || visited.has(n.name)) continue;
    visited.add(n.name);
    if (n.opType === 'Conv') {
      convs++;
      found.push(...n.inputs.slice(1).filter((i) => i && inits.has(i)));
    }
    queue.push(...n.inputs.filter((i) => i && !inits.has(i)));
  }
  return found;
}
