/**
 * Box accuracy of CAM-based localisation on a dataset with ground-truth boxes: the fraction of
 * samples whose CAM box has IoU ≥ 0.5 with a box of the labelled class (the labelled object's, or
 * another instance of the same class, as in ILSVRC's localisation error: the best-matching instance
 * counts; Russakovsky et al. 2015, §4.1), for the ground-truth class ("GT-known") and for the top-1
 * class counted only when the prediction is right ("top-1 localisation").
 */
import type { Dataset } from '../../data/dataset.js';
import { batchTensor, type Preprocessing } from '../../data/preprocess.js';
import type { ConvlensModel } from '../../runtime/model.js';
import { explain } from './index.js';
import { BOX_THRESHOLDS, type Box, boxIoU, camBox, DEFAULT_BOX_THRESHOLD } from './localize.js';
import { Explainer } from './pipeline.js';

export interface LocalizationOptions {
  method: string;
  /** Fraction of the CAM's max (default: 0.2 for CAM, 0.15 otherwise). */
  threshold?: number;
  layer?: string;
  logits?: string;
  features?: string;
  batch?: number;
  /** Evaluate the first `limit` samples only. */
  limit?: number;
  iou?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface LocalizationReport {
  method: string;
  layer: string;
  threshold: number;
  iou: number;
  samples: number;
  /** GT-known box accuracy. */
  boxAccuracy: number;
  /** Correct class and IoU ≥ iou. */
  top1Localization: number;
  classification: number;
  meanIoU: number;
}

export async function evaluateLocalization(
  model: ConvlensModel,
  data: Dataset,
  prep: Preprocessing,
  options: LocalizationOptions,
): Promise<LocalizationReport> {
  const total = Math.min(data.length, options.limit ?? data.length);
  const batch = options.batch ?? 64;
  const threshold = options.threshold ?? BOX_THRESHOLDS[options.method] ?? DEFAULT_BOX_THRESHOLD;
  const iouCut = options.iou ?? 0.5;
  let known = 0;
  let top1 = 0;
  let correct = 0;
  let iouSum = 0;
  let layer = options.layer ?? '';
  for (let start = 0; start < total; start += batch) {
    const indices = Array.from({ length: Math.min(batch, total - start) }, (_, k) => start + k);
    const { input, labels } = batchTensor(data, indices, prep);
    const ex = new Explainer(model, input, { logits: options.logits, features: options.features, batch });
    const predicted = await ex.predicted();
    const truth = await explain(ex, {
      methods: [options.method],
      layer: options.layer,
      target: { kind: 'classes', indices: Array.from(labels) },
    });
    layer = truth.layer ?? layer;
    const [, , h, w] = truth.maps[0].dims;
    for (const [k, index] of indices.entries()) {
      const objects = data.get(index).objects ?? [];
      const boxes = objects.filter((o) => o.classIndex === labels[k]).map((o) => o.box as Box);
      if (!boxes.length)
        throw new Error(`dataset "${data.name}" has no ground-truth box for sample ${index}`);
      const box = camBox(
        truth.maps[0].data.subarray(k * h * w, (k + 1) * h * w),
        h,
        w,
        data.height,
        data.width,
        threshold,
      );
      const iou = box ? Math.max(...boxes.map((gt) => boxIoU(box, gt))) : 0;
      iouSum += iou;
      if (iou >= iouCut) known++;
      // When the prediction is right, the top-1 map is the true-class map: its box counts again.
      if (predicted[k] === labels[k]) {
        correct++;
        if (iou >= iouCut) top1++;
      }
    }
    options.onProgress?.(start + indices.length, total);
  }
  return {
    method: options.method,
    layer,
    threshold,
    iou: iouCut,
    samples: total,
    boxAccuracy: known / total,
    top1Localization: top1 / total,
    classification: correct / total,
    meanIoU: iouSum / total,
  };
}
