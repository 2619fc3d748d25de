import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { readStyleCard } from '../data/styleCard.js';
import { readModelFile } from '../node.js';
import { cli } from './harness.js';
import { photosDir } from './styleTrain.js';

const dir = mkdtempSync(join(tmpdir(), 'convlens-style-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const photo = (name: string) => join(photosDir(), name);
const tiny = ['--size', '16', '--rf-sizes', '3,5', '--rf-filters', '4', '--width', '2', '--blocks', '1'];

describe('convlens style train and stylize', () => {
  const net = join(dir, 'two.onnx');

  it('trains a two-style network and writes it with its card (and snapshots when asked)', async () => {
    const r = await cli(
      'style',
      'train',
      '--style',
      photo('brick.png'),
      photo('flower.jpg'),
      '--content',
      photo('coffee.png'),
      photo('rocket.jpg'),
      ...tiny,
      '--steps',
      '4',
      '--snapshot-every',
      '2',
      '--seed',
      '3',
      '-o',
      net,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.styles.map((s: { name: string }) => s.name)).toEqual(['brick', 'flower']);
    expect(Number.isFinite(summary.finalLoss)).toBe(true);
    const card = readStyleCard(readModelFile(net))!;
    expect(card.size).toBe(16);
    expect(card.loss).toMatchObject({
      network: 'random-features',
      contentLayer: 'rf5',
      styleLayers: ['rf3', 'rf5'],
    });
    expect(card.training).toMatchObject({ steps: 4, seed: 3, content: ['coffee.png', 'rocket.jpg'] });
    expect(existsSync(join(dir, 'two.step2.onnx'))).toBe(true);
    expect(readStyleCard(readModelFile(join(dir, 'two.step2.onnx')))!.training).toMatchObject({ steps: 2 });
    expect(existsSync(join(dir, 'two.step4.onnx'))).toBe(false);
  });

  it('stylises each style by default, one by name, or a mix, at the image’s size', async () => {
    const out = join(dir, 'stylized');
    const each = await cli('stylize', '-m', net, '--image', photo('chelsea.png'), '-o', out, '--json');
    expect(each.code, each.err).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['chelsea.brick.png', 'chelsea.flower.png', 'stylize.json']);
    expect(await sharp(join(out, 'chelsea.brick.png')).metadata()).toMatchObject({ width: 451, height: 300 });
    const mixed = await cli(
      'stylize',
      '-m',
      net,
      '--image',
      photo('chelsea.png'),
      '--mix',
      '1,1',
      '--size',
      '101',
      '-o',
      join(dir, 'mixed'),
      '--json',
    );
    expect(mixed.code, mixed.err).toBe(0);
    const result = JSON.parse(mixed.out).results[0];
    expect(result).toMatchObject({ style: 'mix-1-1', size: [67, 101] });
    const byName = await cli(
      'stylize',
      '-m',
      net,
      '--image',
      photo('chelsea.png'),
      '--style',
      'flower',
      '-o',
      join(dir, 'named'),
    );
    expect(byName.code, byName.err).toBe(0);
    expect(readdirSync(join(dir, 'named'))).toContain('chelsea.flower.png');
  });

  it('stylises with the shipped network by default', async () => {
    const out = join(dir, 'shipped');
    const r = await cli(
      'stylize',
      '--image',
      photo('chelsea.png'),
      '--style',
      '0',
      '--size',
      '64',
      '-o',
      out,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'stylize.json'), 'utf8')).styles).toHaveLength(3);
  });
});
