import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../data/npy.js';
import { drawShapes } from '../data/shapes.js';
import { cli, writePng } from './harness.js';

let dir: string;
let image: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-segment-'));
  image = join(dir, 'sample.png');
  await writePng(image, drawShapes(2, 0, 64, 0.02).image, 64);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convlens segment', () => {
  it('writes a 0/1 mask (.png, .npy), an overlay and a record per image', async () => {
    const out = join(dir, 'one');
    const r = await cli('segment', '--image', image, '--method', 'gradcam', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'grid.png',
      'sample.json',
      'sample.mask.npy',
      'sample.mask.png',
      'sample.overlay.png',
    ]);
    const mask = decodeNpy(readFileSync(join(out, 'sample.mask.npy')));
    expect(mask.shape).toEqual([64, 64]);
    expect(mask.data.every((v) => v === 0 || v === 1)).toBe(true);
    const record = JSON.parse(readFileSync(join(out, 'sample.json'), 'utf8'));
    expect(record.area).toBe(mask.data.reduce((a, b) => a + b, 0));
    expect(record.seeds).toMatchObject({ fg: 0.95, bg: 0.3, flat: false });
    expect(record.seeds.foreground).toBeGreaterThanOrEqual(64 * 64 - Math.floor(0.95 * 64 * 64));
  });

  it('--eval scores GrabCut masks against the shapes masks, beside the thresholded map and the CAM box', async () => {
    const out = join(dir, 'eval');
    const r = await cli('segment', '--eval', '--count', '12', '--method', 'gradcam', '--out', out, '--json');
    expect(r.code).toBe(0);
    const e = JSON.parse(r.out);
    expect(e).toMatchObject({ samples: 12, method: 'gradcam', fg: 0.95, bg: 0.3 });
    // Grad-CAM seeds grow into better masks than the thresholded map or the box they come from.
    expect(e.grabcut.meanIoU).toBeGreaterThan(e.thresholdedMap.meanIoU);
    expect(e.grabcut.meanIoU).toBeGreaterThan(e.gradcamBox.meanIoU);
    expect(e.grabcut.meanIoU).toBeGreaterThan(0.6);
    expect(JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'))).toEqual(e);
  });

  describe('bad input: a clear error, exit 1, nothing written', () => {
    const cases: [string, string[], RegExp][] = [
      ['fg at or below bg', ['--fg', '0.3', '--bg', '0.5'], /--bg \(0.5\) must be below --fg \(0.3\)/],
      ['fg outside (0, 1)', ['--fg', '1.2'], /--fg must be a quantile in \(0, 1\), got 1.2/],
      ['bg outside (0, 1)', ['--bg', '0'], /--bg must be a quantile in \(0, 1\), got 0/],
      [
        'a method that does not exist',
        ['--method', 'gradkam'],
        /unknown method "gradkam"; valid methods, nearest first: gradcam/,
      ],
      [
        '--eval on data without masks',
        ['--eval', '--data', 'mnist', '--model', 'digits-gap'],
        /--eval needs data with object masks/,
      ],
    ];
    it.each(cases)('%s', async (name, args, error) => {
      const out = join(dir, `bad-${name.replace(/\W+/g, '-')}`);
      const input = args.includes('--data') ? [] : ['--image', image];
      const r = await cli('segment', ...input, ...args, '--out', out);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(error);
      expect(existsSync(out)).toBe(false);
    });
  });
});
