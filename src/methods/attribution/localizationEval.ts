/**
 * Box accuracy of CAM-based localisation on a dataset with ground-truth boxes: the fraction of
 * samples whose CAM box has IoU ≥ 0.5 with a box of the labelled class (the labelled object's, or
 * another instance of the same class, as in ILSVRC's localisation error: the best-matching instance
 * counts; Russakovsky et al. 2015, §4.1), for the ground-truth class ("GT-known") and for the top-1
 * class counted only when the prediction is right ("top-1 localisation").
 */
import type { BoxCalibration } from '../../data/card.js';
import type { Dataset } from '../../data/dataset.js';
import { batchTensor, type Preprocessing } from '../../data/preprocess.js';
import type { ConvlensModel } from '../../runtime/model.js';
import { explain } from './index.js';
import { type Box, boxIoU, boxThresholdFor, camBox } from './localize.js';
import { Explainer } from './pipeline.js';

export interface LocalizationOptions {
  method: string;
  /** Fraction of the CAM's max (default: `calibrated[method]`, else 0.2 for CAM, 0.15 otherwise). */
  threshold?: number;
  /** The model's calibrated thresholds by method (its card's). */
  calibrated?: Record<string, number>;
  /** Also score these thresholds from the same maps (a sweep; see `bestThreshold`). */
  thresholds?: number[];
  layer?: string;
  logits?: string;
  features?: string;
  batch?: number;
  /** Evaluate the first `limit` samples only. */
  limit?: number;
  iou?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Box scores at one threshold. */
export interface ThresholdScore {
  threshold: number;
  /** GT-known box accuracy. */
  boxAccuracy: number;
  /** Correct class and IoU ≥ iou. */
  top1Localization: number;
  meanIoU: number;
}

export interface LocalizationReport extends ThresholdScore {
  method: string;
  layer: string;
  iou: number;
  samples: number;
  classification: number;
  /** Scores at `options.thresholds`, in the order given. */
  sweep?: ThresholdScore[];
}

/**
 * The threshold with the highest box accuracy (the lowest threshold among ties). Choe et al. 2020
 * ("Evaluating Weakly Supervised Object Localization Methods Right") score CAMs at their best
 * threshold (MaxBoxAcc) and tune hyperparameters on held-out boxes: pick it on a validation split,
 * then apply it unchanged to test.
 */
export function bestThreshold(sweep: ThresholdScore[]): ThresholdScore {
  if (sweep.length === 0) throw new Error('no thresholds to choose from');
  return sweep.reduce((best, s) =>
    s.boxAccuracy > best.boxAccuracy || (s.boxAccuracy === best.boxAccuracy && s.threshold < best.threshold)
      ? s
      : best,
  );
}

export async function evaluateLocalization(
  model: ConvlensModel,
  data: Dataset,
  prep: Preprocessing,
  options: LocalizationOptions,
): Promise<LocalizationReport> {
  const total = Math.min(data.length, options.limit ?? data.length);
  const batch = options.batch ?? 64;
  const threshold = options.threshold ?? boxThresholdFor(options.method, options.calibrated);
  const thresholds = [threshold, ...(options.thresholds ?? [])];
  for (const t of thresholds)
    if (!(t >= 0 && t <= 1)) throw new Error(`box threshold must be in [0, 1], got ${t}`);
  const iouCut = options.iou ?? 0.5;
  const known = new Array(thresholds.length).fill(0);
  const top1 = new Array(thresholds.length).fill(0);
  const iouSum = new Array(thresholds.length).fill(0);
  let correct = 0;
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
      const map = truth.maps[0].data.subarray(k * h * w, (k + 1) * h * w);
      // When the prediction is right, the top-1 map is the true-class map: its box counts again.
      const right = predicted[k] === labels[k];
      if (right) correct++;
      for (const [j, t] of thresholds.entries()) {
        const box = camBox(map, h, w, data.height, data.width, t);
        const iou = box ? Math.max(...boxes.map((gt) => boxIoU(box, gt))) : 0;
        iouSum[j] += iou;
        if (iou >= iouCut) {
          known[j]++;
          if (right) top1[j]++;
        }
      }
    }
    options.onProgress?.(start + indices.length, total);
  }
  const scores = thresholds.map((t, j) => ({
    threshold: t,
    boxAccuracy: known[j] / total,
    top1Localization: top1[j] / total,
    meanIoU: iouSum[j] / total,
  }));
  return {
    method: options.method,
    layer,
    iou: iouCut,
    samples: total,
    classification: correct / total,
    ...scores[0],
    ...(options.thresholds ? { sweep: scores.slice(1) } : {}),
  };
}

/** FROM, FROM + STEP, …, TO (inclusive, within rounding), each rounded to 1e-9 so 0.05 + 5·0.025 is 0.175. */
export function thresholdRange(from: number, to: number, step: number): number[] {
  const count = Math.floor((to - from) / step + 1e-9) + 1;
  return Array.from({ length: count }, (_, i) => Math.round((from + i * step) * 1e9) / 1e9);
}

/** Thresholds a calibration sweeps by default: 0.05, 0.075, …, 0.5 of the CAM max. */
export const CALIBRATION_THRESHOLDS = thresholdRange(0.05, 0.5, 0.025);

/**
 * Choose a method's box threshold on a split with boxes (validation, never test): the sweep's
 * best (`bestThreshold`), with the accuracy it reached there, ready for a model card.
 * @example
 * const { validation } = shapesSplits();
 * const gradcam = await calibrateBoxThreshold(model, validation!, card.preprocessing, { method: 'gradcam' });
 * writeCard(model.model, { ...card, localization: { gradcam } });
 */
export async function calibrateBoxThreshold(
  model: ConvlensModel,
  data: Dataset,
  prep: Preprocessing,
  options: Omit<LocalizationOptions, 'threshold' | 'calibrated'>,
): Promise<BoxCalibration> {
  const thresholds = options.thresholds ?? CALIBRATION_THRESHOLDS;
  const report = await evaluateLocalization(model, data, prep, {
    ...options,
    threshold: thresholds[0],
    thresholds: thresholds.slice(1),
  });
  const best = bestThreshold([report, ...report.sweep!]);
  return {
    threshold: best.threshold,
    split: data.name,
    samples: report.samples,
    boxAccuracy: best.boxAccuracy,
  };
}
