import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { handGenerator, handSegmenter } from '../methods/inspect/gan/handModels.js';
import { writeModelFile } from '../node.js';
import { cli } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'convlens-gan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const generator = join(dir, 'g.onnx');
const segmenter = join(dir, 's.onnx');
const labels = join(dir, 'labels.txt');
writeModelFile(generator, handGenerator());
writeModelFile(segmenter, handSegmenter());
writeFileSync(labels, 'background\nred\ngreen\n');
const pair = ['--model', generator, '--segmenter', segmenter, '--seg-labels', labels];

describe('convlens gan', () => {
  it('sample writes a grid, with or without a segmenter', async () => {
    for (const extra of [[], ['--segmenter', segmenter, '--seg-labels', labels]]) {
      const out = join(dir, `samples${extra.length}`);
      const r = await cli('gan', 'sample', '--model', generator, ...extra, '--count', '4', '--out', out);
      expect(r.code, r.err).toBe(0);
      expect(existsSync(join(out, 'samples.png'))).toBe(true);
    }
  });

  it('dissect labels each unit with the class it draws', async () => {
    const r = await cli(
      'gan',
      'dissect',
      ...pair,
      '--layer',
      'units',
      '--samples',
      '8',
      '--effect-samples',
      '4',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(r.out);
    expect(result.units.map((u: { label: string }) => u.label)).toEqual(['red', 'green']);
    expect(result.units[0].effect).toBe(-0.25);
    expect(result.strongestByEffect.green[0]).toBe(1);
    const out = join(dir, 'dissected');
    const written = await cli(
      'gan',
      'dissect',
      ...pair,
      '--layer',
      'units',
      '--samples',
      '8',
      '--effect-samples',
      '4',
      '--out',
      out,
    );
    expect(written.code, written.err).toBe(0);
    expect(existsSync(join(out, 'dissection.json')) && existsSync(join(out, 'units.png'))).toBe(true);
  });

  it('edit --ablate removes the class the units draw; auto finds them', async () => {
    for (const units of ['0', 'auto']) {
      const out = join(dir, `ablate-${units}`);
      const r = await cli(
        'gan',
        'edit',
        ...pair,
        '--layer',
        'units',
        '--ablate',
        units,
        '--class',
        'red',
        '--top',
        '1',
        '--samples',
        '4',
        '--out',
        out,
      );
      expect(r.code, r.err).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'edit.json'), 'utf8'));
      expect(report.units).toEqual([0]);
      expect(report.changes.red).toEqual({ before: 0.25, after: 0, relative: -1 });
      expect(report.changes.green.relative).toBe(0);
      expect(existsSync(join(out, 'before.png')) && existsSync(join(out, 'after.png'))).toBe(true);
    }
  });

  it('edit --insert draws the class at the point in every sample', async () => {
    const out = join(dir, 'insert');
    const r = await cli(
      'gan',
      'edit',
      ...pair,
      '--layer',
      'units',
      '--insert',
      '0',
      '--at',
      '1,6,0',
      '--class',
      'red',
      '--samples',
      '4',
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).insertion).toMatchObject({ trials: 4, appeared: 4, before: 0, after: 1 });
  });

  it.each([
    [['--layer', 'image', '--ablate', '0'], /"image" is not a spatial layer of the generator/],
    [
      ['--layer', 'units', '--ablate', '2', '--class', 'red'],
      /unit 2 is out of range: layer "units" has units 0\.\.1/,
    ],
    [
      ['--layer', 'units', '--ablate', '0', '--class', 'circle'],
      /no class "circle"; its classes: background, red, green/,
    ],
    [['--layer', 'units', '--insert', '0', '--class', 'red'], /--insert needs --at X,Y\[,R\]/],
    [['--layer', 'units', '--ablate', 'x'], /expected "auto" or unit indices/],
  ])('edit %j fails clearly and writes nothing', async (args, message) => {
    const out = join(dir, 'bad');
    const r = await cli('gan', 'edit', ...pair, ...args, '--out', out);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects a generator without a latent input and a segmenter with other classes', async () => {
    const a = await cli(
      'gan',
      'dissect',
      '--model',
      segmenter,
      '--segmenter',
      segmenter,
      '--seg-labels',
      labels,
      '--layer',
      'units',
    );
    expect(a.code).not.toBe(0);
    expect(a.err).toMatch(/a generator takes a float latent vector/);
    writeFileSync(join(dir, 'four.txt'), 'a\nb\nc\nd\n');
    const b = await cli(
      'gan',
      'dissect',
      '--model',
      generator,
      '--segmenter',
      segmenter,
      '--seg-labels',
      join(dir, 'four.txt'),
      '--layer',
      'units',
    );
    expect(b.code).not.toBe(0);
    expect(b.err).toMatch(/3 output classes but 4 class names/);
  });

  it('train --recipe shapes-gan takes --steps; a classifier recipe refuses it', async () => {
    const out = join(dir, 'trained-gan.onnx');
    const r = await cli(
      'train',
      '--recipe',
      'shapes-gan',
      '--steps',
      '1',
      '--batch',
      '4',
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).model).toBe(out);
    expect(existsSync(out)).toBe(true);
    const bad = await cli('train', '--recipe', 'shapes-gap', '--steps', '3');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--steps applies to shapes-gan and shapes-seg/);
  });
});
