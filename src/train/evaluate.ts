/** Top-1 accuracy and the confusion matrix of a classifier on a labelled dataset. */
import type { Dataset } from '../data/dataset.js';
import { batchTensor, type Preprocessing } from '../data/preprocess.js';
import type { Tensor } from '../onnx/tensor.js';
import type { ConvlensModel } from '../runtime/model.js';

export interface Evaluation {
  accuracy: number;
  correct: number;
  total: number;
  /** confusion[truth][predicted] counts. */
  confusion: number[][];
  classes: readonly string[];
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/**
 * Score `data` in batches with any forward function returning [batch, classes] scores (a model
 * run, or a training session fed the current weights).
 */
export async function scoreDataset(
  data: Dataset,
  p: Preprocessing,
  batch: number,
  scores: (input: Tensor) => Promise<Float32Array>,
): Promise<Evaluation> {
  const k = data.classes.length;
  const confusion = Array.from({ length: k }, () => new Array(k).fill(0));
  let correct = 0;
  for (let start = 0; start < data.length; start += batch) {
    const indices = Array.from({ length: Math.min(batch, data.length - start) }, (_, i) => start + i);
    const { input, labels } = batchTensor(data, indices, p);
    const s = await scores(input);
    const classes = s.length / labels.length;
    if (classes !== k)
      throw new Error(
        `the model scores ${classes} classes; dataset "${data.name}" has ${k} (${data.classes.join(', ')})`,
      );
    labels.forEach((l, i) => {
      const predicted = argmax(s.subarray(i * classes, (i + 1) * classes));
      confusion[l][predicted]++;
      if (predicted === l) correct++;
    });
  }
  return {
    accuracy: data.length ? correct / data.length : 0,
    correct,
    total: data.length,
    confusion,
    classes: data.classes,
  };
}

/**
 * Evaluate `model` on `data` in batches (batch size 1 when the model's batch axis is fixed to 1).
 *
 * @example
 * ```ts
 * const e = await evaluate(await loadModel('models/digits-gap.onnx'), loadMnist().test, card.preprocessing);
 * console.log(e.accuracy);
 * ```
 */
export function evaluate(
  model: ConvlensModel,
  data: Dataset,
  p: Preprocessing,
  options: { logits?: string; batchSize?: number } = {},
): Promise<Evaluation> {
  const logits = options.logits ?? model.outputNames[0];
  const declared = model.model.graph.inputs[0].shape?.[0];
  const batch = typeof declared === 'number' ? declared : (options.batchSize ?? 100);
  return scoreDataset(
    data,
    p,
    batch,
    async (input) => (await model.run(input, { outputs: [logits] }))[logits].data as Float32Array,
  );
}
