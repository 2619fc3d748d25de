/** Top-k classes with probabilities, shared by predict, explain and report. */
import { softmax } from '../maths/softmax.js';
import { producers } from '../onnx/graph.js';
import type { Model } from '../onnx/model.js';
import type { Tensor } from '../onnx/tensor.js';

export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/** Whether `logits` is a Softmax output (the model already gives probabilities). */
export function givesProbabilities(model: Model, logits: string): boolean {
  return producers(model.graph).get(logits)?.opType === 'Softmax';
}

/** The k most probable classes of each row of an [N, K] tensor of logits (or probabilities). */
export function topClasses(
  t: Tensor,
  classes: readonly string[],
  k: number,
  probabilities = false,
): Prediction[][] {
  const width = t.dims[t.dims.length - 1];
  const data = t.data as Float32Array;
  return Array.from({ length: data.length / width }, (_, n) => {
    const row = data.subarray(n * width, (n + 1) * width);
    const probs = probabilities ? Float64Array.from(row) : softmax(row);
    const names = classes.length === width ? classes : undefined;
    return Array.from(probs, (probability, index) => ({
      index,
      label: names?.[index] ?? String(index),
      probability,
    }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, k);
  });
}
