import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readCard, writeCard } from '../data/card.js';
import { drawShapes } from '../data/shapes.js';
import { readModelFile, writeModelFile } from '../node.js';
import { nodeBackend } from '../runtime/node.js';
import { cli, writePng } from './harness.js';

let dir: string;
let folder: string;
let model: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-cli-'));
  // An ImageFolder of two shape classes (circle, square) drawn at 16×16.
  folder = join(dir, 'data');
  const wanted: Record<number, string> = { 0: 'circle', 1: 'square' };
  const counts = [0, 0];
  for (let i = 0; counts[0] + counts[1] < 20; i++) {
    const s = drawShapes(4, i, 16, 0.01);
    const cls = wanted[s.label];
    if (!cls || counts[s.label] >= 10) continue;
    mkdirSync(join(folder, cls), { recursive: true });
    await writePng(join(folder, cls, `${i}.png`), s.image, 16);
    counts[s.label]++;
  }
  model = join(dir, 'model.onnx');
  const r = await cli(
    'train',
    '--data',
    folder,
    '--size',
    '16',
    '--epochs',
    '2',
    '--batch',
    '8',
    '--out',
    model,
    '--quiet',
  );
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convlens CLI', () => {
  it('train --data writes a model with a card naming the folder classes and its test accuracy', () => {
    const card = readCard(readModelFile(model))!;
    expect(card.classes).toEqual(['circle', 'square']);
    expect(card.preprocessing.size).toEqual([16, 16]);
    expect(card.testSamples).toBe(4);
  });

  it('evaluate prints accuracy and a confusion matrix that sums to the test split', async () => {
    const r = await cli('evaluate', '--model', model, '--data', folder, '--json');
    expect(r.code).toBe(0);
    const e = JSON.parse(r.out);
    expect(e.total).toBe(4);
    expect(e.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(4);
    expect(e.correct).toBe(e.confusion[0][0] + e.confusion[1][1]);
    // The card records the accuracy that evaluate measures on the same split.
    expect(readCard(readModelFile(model))!.testAccuracy).toBe(e.accuracy);
  });

  it('predict lists classes by probability, summing to at most 1', async () => {
    const image = join(folder, 'circle', readdirSync(join(folder, 'circle'))[0]);
    const r = await cli('predict', '--model', model, '--image', image, '--top', '2', '--json');
    expect(r.code).toBe(0);
    const top = JSON.parse(r.out).predictions[0].top;
    expect(top.map((t: { label: string }) => t.label).sort()).toEqual(['circle', 'square']);
    expect(top[0].probability).toBeGreaterThanOrEqual(top[1].probability);
    expect(top[0].probability + top[1].probability).toBeCloseTo(1, 5);
  });

  it('--threads, --provider and --spinning reach the session: the same prediction on 1 thread and on cpu', async () => {
    const image = join(folder, 'circle', readdirSync(join(folder, 'circle'))[0]);
    const base = await cli('predict', '--model', model, '--image', image, '--json');
    const sessions = vi.spyOn(nodeBackend(), 'createSession');
    try {
      const flags = ['--threads', '1', '--provider', 'cpu', '--spinning', 'within-run'];
      const pinned = await cli(...flags, 'predict', '--model', model, '--image', image, '--json');
      expect(pinned.code).toBe(0);
      expect(JSON.parse(pinned.out).predictions).toEqual(JSON.parse(base.out).predictions);
      // The inference session (not the shape probe) carries both flags.
      expect(sessions.mock.calls.map(([, o]) => o)).toContainEqual({
        threads: 1,
        executionProviders: ['cpu'],
        spinning: 'within-run',
      });
    } finally {
      sessions.mockRestore();
    }
  });

  it('scouter train puts a SCOUTER head on a backbone; explain --method scouter reads its attention', async () => {
    const train = (lambda: string, out: string) =>
      cli(
        'scouter',
        'train',
        '--backbone',
        model,
        '--data',
        folder,
        '--lambda',
        lambda,
        '--hidden',
        '8',
        '--epochs',
        '2',
        '--batch',
        '8',
        '--seed',
        '4',
        '-o',
        out,
        '--json',
      );
    const plus = join(dir, 'scouter+.onnx');
    const r = await train('+1', plus);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.explanation).toBe('scouter+');
    // The backbone's own accuracy, as evaluate measures it, is reported beside the head's.
    expect(summary.backboneAccuracy).toBe(
      JSON.parse((await cli('evaluate', '--model', model, '--data', folder, '--json')).out).accuracy,
    );
    const card = readCard(readModelFile(plus))!;
    expect(card.scouter).toMatchObject({
      lambda: 1,
      attention: 'scouter_attention',
      slotsPerClass: 1,
      hidden: 8,
    });
    expect(card.tensors).toMatchObject({ logits: 'logits', features: 'features' });
    expect(card.testAccuracy).toBe(summary.testAccuracy);
    // Deterministic by seed: the same weights again.
    const again = join(dir, 'scouter+again.onnx');
    expect((await train('+1', again)).code).toBe(0);
    const [a, b] = [readModelFile(plus), readModelFile(again)];
    for (const [name, t] of a.graph.initializers)
      expect(b.graph.initializers.get(name)!.data, name).toEqual(t.data);

    const image = join(folder, 'circle', readdirSync(join(folder, 'circle'))[0]);
    const out = join(dir, 'scouter-explained');
    const e = await cli(
      'explain',
      '--model',
      plus,
      '--image',
      image,
      '--method',
      'all',
      '-o',
      out,
      '--quiet',
    );
    expect(e.code, e.err).toBe(0);
    const stem = basename(image, extname(image));
    expect(readdirSync(out)).toContain(`${stem}.scouter.png`);
    const record = JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8'));
    // The map is the attention itself, at the feature map's 4×4.
    expect(record.explanations[0].methods.scouter.shape).toEqual([4, 4]);

    const minus = join(dir, 'scouter-.onnx');
    expect((await train('-1', minus)).code).toBe(0);
    expect(readCard(readModelFile(minus))!.scouter?.lambda).toBe(-1);
    // The report adds the runner-up class's map: for SCOUTER−, why the image is not that class.
    const html = join(dir, 'scouter-report.html');
    const rep = await cli('report', '--model', minus, '--image', image, '-o', html);
    expect(rep.code, rep.err).toBe(0);
    expect(readFileSync(html, 'utf8')).toMatch(/SCOUTER−: why not (circle|square)/);
  });

  it('retrofit appends GAP + linear after a conv map and reports accuracy before and after', async () => {
    const out = join(dir, 'retro.onnx');
    // The source's box thresholds were chosen for its own map: the new model must not inherit them.
    const source = join(dir, 'calibrated-source.onnx');
    const calibrated = readModelFile(model);
    const gradcam = { threshold: 0.3, split: 'shapes/validation', samples: 10, boxAccuracy: 0.5 };
    writeCard(calibrated, { ...readCard(calibrated)!, localization: { gradcam } });
    writeModelFile(source, calibrated);
    const r = await cli(
      'retrofit',
      '--model',
      source,
      '--layer',
      'relu1',
      '--data',
      folder,
      '--out',
      out,
      '--epochs',
      '2',
      '--json',
      '--batch',
      '8',
    );
    expect(r.err).toBe('');
    const report = JSON.parse(r.out);
    const m = readModelFile(out);
    const card = readCard(m)!;
    // Before: the original model's test accuracy; after: the retrofitted one's, as evaluate measures them.
    const evaluated = async (file: string) =>
      JSON.parse((await cli('evaluate', '--model', file, '--data', folder, '--json')).out).accuracy;
    expect(report.accuracyBefore).toBe(await evaluated(model));
    expect(report.accuracyAfter).toBe(await evaluated(out));
    expect(card.testAccuracy).toBe(report.accuracyAfter);
    expect(card.tensors?.features).toBe('relu1');
    expect(readCard(calibrated)?.localization?.gradcam).toEqual(gradcam);
    expect(card.localization).toBeUndefined();
    const ops = m.graph.nodes.map((n) => n.opType);
    expect(ops.slice(-3)).toEqual(['GlobalAveragePool', 'Flatten', 'Gemm']);
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(1);
  });

  describe('bad input: a clear error, exit 1, nothing written', () => {
    it.each([
      [
        'an unreadable image',
        () => ['predict', '--model', model, '--image', join(dir, 'broken.png')],
        /image ".*broken.png" could not be read/,
      ],
      [
        'an unknown execution provider',
        () => [
          '--provider',
          'tpu,cpu',
          'predict',
          '--model',
          model,
          '--image',
          join(folder, 'circle', readdirSync(join(folder, 'circle'))[0]),
        ],
        /execution provider "tpu" is not available in onnxruntime-node; available: cpu/,
      ],
      [
        'a thread count of 0',
        () => ['--threads', '0', 'predict', '--model', model],
        /--threads must be a positive integer, got "0"/,
      ],
      [
        'an unknown spinning mode',
        () => ['--spinning', 'often', 'predict', '--model', model],
        /--spinning must be one of auto, within-run, always, never, got "often"/,
      ],
      [
        'a missing image',
        () => ['predict', '--model', model, '--image', join(dir, 'none.png')],
        /image ".*none.png" does not exist/,
      ],
      [
        'an empty folder',
        () => ['train', '--data', join(dir, 'empty'), '--out', join(dir, 'x.onnx')],
        /holds no images/,
      ],
      [
        'a class-less folder',
        () => ['train', '--data', join(dir, 'flat'), '--out', join(dir, 'x.onnx')],
        /has no class subfolders/,
      ],
      [
        'a layer that is not a feature map',
        () => [
          'retrofit',
          '--model',
          model,
          '--layer',
          'gap',
          '--data',
          folder,
          '--out',
          join(dir, 'x.onnx'),
        ],
        /layer "gap" \(Flatten, shape \[1, 64\]\) is not a feature map laid out \[N, C, H, W\]/,
      ],
      [
        'an unknown layer',
        () => [
          'retrofit',
          '--model',
          model,
          '--layer',
          'relu9',
          '--data',
          folder,
          '--out',
          join(dir, 'x.onnx'),
        ],
        /layer "relu9" not found; nearest: relu1/,
      ],
      [
        'an unknown dataset',
        () => ['evaluate', '--model', model, '--data', join(dir, 'nowhere')],
        /neither a built-in dataset \(mnist, shapes\) nor an existing folder/,
      ],
      [
        'an unknown recipe',
        () => ['train', '--recipe', 'cats'],
        /Allowed choices are digits-gap, shapes-gap, shapes-vgg/,
      ],
      [
        'a negative seed',
        () => ['train', '--recipe', 'digits-gap', '--seed', '-1'],
        /expected a non-negative integer, got "-1"/,
      ],
      [
        'a retrofit that would overwrite its input',
        () => ['retrofit', '--model', model, '--layer', 'relu1', '--data', folder, '--out', model],
        /would overwrite the input model/,
      ],
    ])('%s', async (_, args, message) => {
      writeFileSync(join(dir, 'broken.png'), 'not an image');
      mkdirSync(join(dir, 'empty'), { recursive: true });
      mkdirSync(join(dir, 'flat'), { recursive: true });
      writeFileSync(
        join(dir, 'flat', 'a.png'),
        await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } })
          .png()
          .toBuffer(),
      );
      const r = await cli(...args());
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
      expect(existsSync(join(dir, 'x.onnx'))).toBe(false);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  });
});
