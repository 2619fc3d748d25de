/**
 * Training and scoring a per-pixel classifier on images whose objects carry masks: the label of a
 * pixel is 0 (background) or 1 + the class of the object covering it. The loss is the mean
 * per-pixel softmax cross-entropy, Σ seed · log p with seed = −onehot / (N·H·W), differentiated
 * by the autodiff engine and minimised with Adam under a cosine schedule; half of the samples are
 * mirrored. Scores: pixel accuracy and mean IoU over classes (Long, Shelhamer & Darrell 2015, §5).
 */
import { buildGradientGraph, gradName, seedName } from '../autodiff/engine.js';
import type { Dataset, Sample } from '../data/dataset.js';
import { Random } from '../maths/random.js';
import { cloneModel, encodeModel, liftToInputs, type Model } from '../onnx/model.js';
import { makeStatic } from '../onnx/static.js';
import { float32, type Tensor } from '../onnx/tensor.js';
import type { InferenceBackend, SessionOptions } from '../runtime/backend.js';
import { Adam, cosineSchedule, parametersOf } from './optimizers.js';
import { trainableParameters } from './trainingGraph.js';

/** Per-pixel labels of a sample: 0 background, 1 + class index on each object's mask. */
export function pixelLabels(sample: Sample, area: number): Uint8Array {
  const labels = new Uint8Array(area);
  for (const o of sample.objects ?? []) {
    if (o.mask.length !== area)
      throw new Error(`an object mask has ${o.mask.length} pixels; the image has ${area}`);
    for (let p = 0; p < area; p++) if (o.mask[p]) labels[p] = o.classIndex + 1;
  }
  return labels;
}

/** Each pixel's class: the argmax over axis 1 of logits [N, K, H, W], as [N, H·W]. */
export function argmaxClasses(logits: Float32Array, n: number, classes: number, area: number): Uint8Array {
  const out = new Uint8Array(n * area);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < area; p++) {
      let best = 0;
      let top = logits[i * classes * area + p];
      for (let k = 1; k < classes; k++) {
        const v = logits[(i * classes + k) * area + p];
        if (v > top) {
          top = v;
          best = k;
        }
      }
      out[i * area + p] = best;
    }
  return out;
}

export interface SegmentationScores {
  pixelAccuracy: number;
  meanIoU: number;
  /** IoU per class over the whole set (NaN for a class absent from both truth and prediction). */
  iou: number[];
}

/** Accumulated confusion of predicted against true pixel classes. */
export class SegmentationTally {
  private readonly confusion: Float64Array;
  constructor(readonly classes: number) {
    this.confusion = new Float64Array(classes * classes);
  }
  add(truth: Uint8Array, predicted: Uint8Array): void {
    for (let p = 0; p < truth.length; p++) this.confusion[truth[p] * this.classes + predicted[p]]++;
  }
  scores(): SegmentationScores {
    const k = this.classes;
    let correct = 0;
    let total = 0;
    const iou: number[] = [];
    for (let c = 0; c < k; c++) {
      let truth = 0;
      let predicted = 0;
      for (let j = 0; j < k; j++) {
        truth += this.confusion[c * k + j];
        predicted += this.confusion[j * k + c];
      }
      const hit = this.confusion[c * k + c];
      correct += hit;
      total += truth;
      iou.push(hit / (truth + predicted - hit));
    }
    const present = iou.filter((v) => !Number.isNaN(v));
    return {
      pixelAccuracy: correct / total,
      meanIoU: present.reduce((a, b) => a + b, 0) / present.length,
      iou,
    };
  }
}

export interface SegmenterTrainingOptions {
  data: Dataset;
  /** Input `image` [N, 3, H, W] in [0, 1]; output per-pixel logits [N, K, H, W]. */
  model: Model;
  batchSize?: number;
  steps?: number;
  /** Peak Adam learning rate (default 2e-3). */
  lr?: number;
  seed?: number;
  onProgress?(p: { step: number; steps: number; loss: number; lr: number }): void;
  session?: SessionOptions;
}

/** Mirror a C×H×W image and its H×W labels left–right in place. */
function mirror(image: Float32Array, labels: Uint8Array, h: number, w: number): void {
  const flip = <T extends Float32Array | Uint8Array>(a: T, planes: number) => {
    for (let c = 0; c < planes; c++)
      for (let y = 0; y < h; y++) {
        const row = (c * h + y) * w;
        for (let x = 0; x < w >> 1; x++) {
          const t = a[row + x];
          a[row + x] = a[row + w - 1 - x];
          a[row + w - 1 - x] = t;
        }
      }
  };
  flip(image, image.length / (h * w));
  flip(labels, 1);
}

/**
 * Train a segmenter on `data` (samples with object masks).
 *
 * @example
 * ```ts
 * const data = shapesDataset({ size: 32, seed: 1, length: 10000 });
 * const { model } = await trainSegmenter({ data, model: unetSegmenter({ classes: 7 }), steps: 3000 }, nodeBackend());
 * ```
 */
export async function trainSegmenter(
  options: SegmenterTrainingOptions,
  backend: InferenceBackend,
): Promise<{ model: Model; history: { step: number; loss: number }[]; seconds: number }> {
  const batch = options.batchSize ?? 32;
  const steps = options.steps ?? 3000;
  const lr = options.lr ?? 2e-3;
  const data = options.data;
  if (data.length === 0) throw new Error(`dataset "${data.name}" is empty`);
  const [h, w] = [data.height, data.width];
  const area = h * w;
  const per = data.channels * area;
  const m = cloneModel(options.model);
  const input = m.graph.inputs[0].name;
  const logits = m.graph.outputs[0].name;
  const logprob = `${logits}::logprob`;
  m.graph.nodes.push({
    name: logprob,
    opType: 'LogSoftmax',
    domain: '',
    inputs: [logits],
    outputs: [logprob],
    attrs: { axis: { type: 'int', value: 1 } },
  });
  m.graph.outputs = [{ name: logprob }];
  const s = await makeStatic(m, { [input]: [batch, data.channels, h, w] }, backend);
  const dims = s.types.get(logits)?.dims ?? [];
  if (dims.length !== 4 || dims[2] !== h || dims[3] !== w)
    throw new Error(
      `the segmenter's output "${logits}" has shape [${dims}]; expected [N, classes, ${h}, ${w}]`,
    );
  const classes = dims[1];
  const trainable = trainableParameters(m);
  const grad = buildGradientGraph(s, {
    objective: [{ tensor: logprob, weights: 'feed' }],
    wrt: trainable,
    outputs: [logprob],
  });
  const session = await backend.createSession(
    encodeModel(liftToInputs(grad, trainable)).bytes,
    options.session,
  );
  const params = parametersOf(m, trainable);
  const rng = new Random(options.seed ?? 0);
  const adam = new Adam();
  const history: { step: number; loss: number }[] = [];
  const start = performance.now();
  try {
    for (let step = 0; step < steps; step++) {
      const x = new Float32Array(batch * per);
      const seed = new Float32Array(batch * classes * area);
      const labels: Uint8Array[] = [];
      for (let i = 0; i < batch; i++) {
        const sample = data.get(Math.floor(rng.next() * data.length));
        const image = sample.image.slice();
        const l = pixelLabels(sample, area);
        if (rng.next() < 0.5) mirror(image, l, h, w);
        x.set(image, i * per);
        for (let p = 0; p < area; p++) {
          if (l[p] >= classes)
            throw new Error(`pixel class ${l[p]} outside the segmenter's ${classes} classes`);
          seed[(i * classes + l[p]) * area + p] = -1 / (batch * area);
        }
        labels.push(l);
      }
      const feeds: Record<string, Tensor> = {
        [input]: float32(x, [batch, data.channels, h, w]),
        [seedName(logprob)]: float32(seed, [batch, classes, h, w]),
      };
      for (const q of params) feeds[q.name] = float32(q.value, q.dims);
      const out = await session.run(feeds, [logprob, ...trainable.map(gradName)]);
      const lp = out[logprob].data as Float32Array;
      let loss = 0;
      labels.forEach((l, i) => {
        for (let p = 0; p < area; p++) loss -= lp[(i * classes + l[p]) * area + p];
      });
      loss /= batch * area;
      if (!Number.isFinite(loss))
        throw new Error(
          `segmenter training diverged at step ${step + 1}: the loss is ${loss}; lower the learning rate`,
        );
      const rate = cosineSchedule(lr, step, steps, Math.min(100, steps >> 3));
      adam.step(
        params,
        trainable.map((n) => out[gradName(n)].data as Float32Array),
        rate,
      );
      history.push({ step: step + 1, loss });
      options.onProgress?.({ step: step + 1, steps, loss, lr: rate });
    }
  } finally {
    await session.release();
  }
  const trained = cloneModel(options.model);
  for (const q of params) trained.graph.initializers.set(q.name, float32(q.value, q.dims));
  return { model: trained, history, seconds: (performance.now() - start) / 1000 };
}
