/** GAN dissection on the shipped shapes-gan and shapes-seg (trained weights). */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelsDir } from '../../../cli/common.js';
import { readCard } from '../../../data/card.js';
import { readGeneratorCard } from '../../../data/generatorCard.js';
import { shapesDataset } from '../../../data/shapes.js';
import { readModelFile } from '../../../node.js';
import { ConvlensModel } from '../../../runtime/model.js';
import { nodeBackend } from '../../../runtime/node.js';
import { scoreSegmenter } from '../../../train/ganJob.js';
import { ablationCurve, classFractions, rankUnits, unitAblationEffects } from './effects.js';
import { GanPair, latents } from './pair.js';

const generator = readModelFile(join(modelsDir(), 'shapes-gan.onnx'));
const segmenter = readModelFile(join(modelsDir(), 'shapes-seg.onnx'));
const card = readCard(segmenter)!;
let pair: GanPair;
beforeAll(async () => {
  pair = await GanPair.open(
    { generator, segmenter, classes: card.classes, segmenterPreprocessing: card.preprocessing },
    nodeBackend(),
  );
});
afterAll(() => pair.release());

describe('shapes-seg', () => {
  it('segments shapes test images (pixel accuracy above 97%, as its card says on 2,000)', async () => {
    const m = new ConvlensModel(segmenter, nodeBackend());
    const scores = await scoreSegmenter(
      m,
      shapesDataset({ size: 32, seed: 2, length: 100 }),
      card.classes.length,
    );
    await m.release();
    expect(scores.pixelAccuracy).toBeGreaterThan(0.97);
    expect(card.segmentation!.meanIoU).toBeGreaterThan(0.9);
  });
});

describe('shapes-gan', () => {
  it('ablating the units that draw squares removes squares far more than the other shapes', async () => {
    const layer = readGeneratorCard(generator)!.defaultLayer!;
    const n = 100;
    const square = pair.classIndex('square');
    const background = pair.classIndex('background');
    const { effects } = await unitAblationEffects(pair, layer, latents(1, 0, n, pair.latent.size), n);
    const z = latents(0, 0, n, pair.latent.size);
    const base = classFractions((await pair.generate(z, n)).classes, n, 32 * 32, card.classes.length);
    const [point] = await ablationCurve(pair, layer, rankUnits(effects, square), square, [4], z, n, base, [
      background,
    ]);
    expect(point.relativeChange).toBeLessThan(-0.25);
    expect(Math.abs(point.otherChange)).toBeLessThan(0.5 * Math.abs(point.relativeChange));
  });
});
