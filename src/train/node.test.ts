import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCard } from '../data/card.js';
import { preprocessing } from '../data/preprocess.js';
import { shapesSplits } from '../data/shapes.js';
import { CALIBRATION_THRESHOLDS, evaluateLocalization } from '../methods/attribution/localizationEval.js';
import { readModelFile } from '../node.js';
import { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';
import { gapClassifier, vggClassifier } from './architectures.js';
import { runTrainJob, type TrainJob } from './node.js';

const dir = mkdtempSync(join(tmpdir(), 'convlens-train-job-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const p = preprocessing([16, 16], 3, 'symmetric');
const splits = shapesSplits({ size: 16, train: 64, test: 16, validation: 24 });
const stages = [
  { convs: [8], pool: true },
  { convs: [8], pool: false },
];
const job = (name: string, architecture: TrainJob['architecture']): TrainJob => ({
  name,
  dataset: 'shapes',
  architecture,
  preprocessing: p,
  options: { epochs: 1, batchSize: 16, optimizer: { type: 'adam', lr: 3e-3 }, seed: 1 },
  out: join(dir, `${name}.onnx`),
  tensors: { input: 'input', logits: 'logits', features: 'features' },
  splits,
});

describe('runTrainJob', () => {
  it('stores box thresholds chosen on the validation split: the best of the sweep, as evaluated there', async () => {
    const r = await runTrainJob(
      job('gap', gapClassifier({ channels: 3, size: [16, 16], classes: 6, stages, seed: 1 })),
    );
    const card = readCard(readModelFile(join(dir, 'gap.onnx')))!;
    expect(card.localization).toEqual(r.card.localization);
    expect(Object.keys(card.localization!).sort()).toEqual(['cam', 'gradcam']);
    const m = new ConvlensModel(readModelFile(join(dir, 'gap.onnx')), nodeBackend());
    try {
      for (const [method, c] of Object.entries(card.localization!)) {
        expect(c.split).toBe('shapes/validation');
        expect(c.samples).toBe(24);
        expect(CALIBRATION_THRESHOLDS).toContain(c.threshold);
        const [first, ...rest] = CALIBRATION_THRESHOLDS;
        const sweep = await evaluateLocalization(m, splits.validation!, p, {
          method,
          threshold: first,
          thresholds: rest,
        });
        const scores = [sweep, ...sweep.sweep!];
        const max = Math.max(...scores.map((s) => s.boxAccuracy));
        expect(c.boxAccuracy).toBe(max);
        // The lowest threshold reaching the maximum.
        expect(c.threshold).toBe(scores.find((s) => s.boxAccuracy === max)!.threshold);
      }
    } finally {
      await m.release();
    }
  });

  it('calibrates Grad-CAM only when the model has no GAP → linear head, and nothing without a validation split', async () => {
    const vgg = await runTrainJob(
      job(
        'vgg',
        vggClassifier({ channels: 3, size: [16, 16], classes: 6, stages, hidden: 8, dropout: 0.5, seed: 1 }),
      ),
    );
    expect(Object.keys(vgg.card.localization!)).toEqual(['gradcam']);
    const plain = await runTrainJob({
      ...job('plain', gapClassifier({ channels: 3, size: [16, 16], classes: 6, stages, seed: 1 })),
      splits: { train: splits.train, test: splits.test },
    });
    expect(plain.card.localization).toBeUndefined();
  });
});
