import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCard } from '../data/card.js';
import { readGeneratorCard } from '../data/generatorCard.js';
import { readModelFile } from '../node.js';
import { nodeBackend } from '../runtime/node.js';
import { runGanRecipe, runSegmenterRecipe } from './ganJob.js';

const dir = mkdtempSync(join(tmpdir(), 'convlens-ganjob-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the GAN-dissection recipes', () => {
  it('shapes-gan writes a generator with its card', async () => {
    const out = join(dir, 'g.onnx');
    await runGanRecipe(out, { steps: 2, batchSize: 8 }, nodeBackend());
    const card = readGeneratorCard(readModelFile(out))!;
    expect(card.latent).toEqual({ name: 'z', size: 64 });
    expect(card.layers).toEqual(['block1', 'block2', 'block3', 'block4']);
    expect(card.training).toMatchObject({ steps: 2, batchSize: 8, generatorLr: 1e-4, discriminatorLr: 4e-4 });
  });

  it('shapes-gan refuses a batch the minibatch-stddev groups cannot split', async () => {
    await expect(
      runGanRecipe(join(dir, 'bad.onnx'), { steps: 1, batchSize: 6 }, nodeBackend()),
    ).rejects.toThrow(/multiple of 4/);
  });

  it('shapes-seg writes a segmenter scored on the test split', async () => {
    const out = join(dir, 's.onnx');
    const r = await runSegmenterRecipe(out, { steps: 2, batchSize: 4, testImages: 10 }, nodeBackend());
    const card = readCard(readModelFile(out))!;
    expect(card.classes).toEqual(['background', 'circle', 'square', 'triangle', 'star', 'cross', 'ring']);
    expect(card.segmentation?.testSamples).toBe(10);
    expect(card.segmentation?.pixelAccuracy).toBe(r.scores.pixelAccuracy);
    expect(r.scores.pixelAccuracy).toBeGreaterThan(0);
  });
});
