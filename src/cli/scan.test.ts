import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanIndex } from '../methods/inspect/scan.js';
import { cli } from './harness.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-scan-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as ScanIndex;
const scanArgs = (out: string, range: string, ...rest: string[]) => [
  'scan',
  '--layers',
  'relu2,features',
  '--top',
  '4',
  '--batch',
  '32',
  '--range',
  range,
  '--out',
  out,
  '--quiet',
  ...rest,
];

/** The index file's bytes (equal for any split of one scan: class sums are kept exact). */
const bytes = (f: string) => readFileSync(f, 'utf8');

describe('convlens scan', () => {
  it('shards merged with merge-scans, and a scan resumed to a wider range, equal one scan', async () => {
    const full = join(dir, 'full.json');
    expect((await cli(...scanArgs(full, '0:96'))).code).toBe(0);
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    await cli(...scanArgs(a, '0:40'));
    await cli(...scanArgs(b, '40:96'));
    const merged = join(dir, 'merged.json');
    const r = await cli('merge-scans', a, b, '--out', merged);
    expect(r.err).toBe('');
    expect(r.out).toContain('merged 2 shards: 96/2000 images');
    expect(bytes(merged)).toBe(bytes(full));
    // A partial index continued with --resume scans only what is missing.
    const again = await cli(...scanArgs(a, '0:96', '--resume', '--json'));
    expect(JSON.parse(again.out)).toMatchObject({ finished: true, scanned: 96, intervals: [[0, 96]] });
    expect(bytes(a)).toBe(bytes(full));
    const index = read(full);
    expect(index.layers.features.field).toEqual({ size: [34, 34], jump: [4, 4], start: [-15, -15] });
    expect(index.layers.relu2.top[0]).toHaveLength(4);
  });

  it('refuses to overwrite, resumes only a matching scan, and rejects overlapping or corrupt indexes', async () => {
    const out = join(dir, 'one.json');
    await cli(...scanArgs(out, '0:32'));
    let r = await cli(...scanArgs(out, '0:32'));
    expect(r.err).toMatch(/exists; pass --resume/);
    r = await cli(...scanArgs(out, '0:64', '--resume', '--top', '5'));
    expect(r.err).toMatch(/cannot resume: .*different top-k \(4 vs 5\)/);
    r = await cli('merge-scans', out, out, '--out', join(dir, 'twice.json'));
    expect(r.err).toMatch(/shards overlap on images 0:32/);
    expect(existsSync(join(dir, 'twice.json'))).toBe(false);
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, '{"format": "convlens-scan", "version": 1');
    r = await cli('patches', '--index', corrupt, '--out', join(dir, 'p.png'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/"[^"]*corrupt.json" is not a convlens scan index/);
    r = await cli('scan', '--layers', 'gap', '--out', join(dir, 'gap.json'));
    expect(r.err).toMatch(/layer "gap" \(Flatten, shape \[1, 64\]\) has no spatial extent/);
    expect(existsSync(join(dir, 'gap.json'))).toBe(false);
  });

  it('an empty folder is a clear error', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r = await cli('scan', '--data', empty, '--out', join(dir, 'e.json'));
    expect(r.err).toMatch(/holds no images/);
    expect(existsSync(join(dir, 'e.json'))).toBe(false);
  });

  it('scans an image folder lazily, and patches crop each hit’s receptive field', async () => {
    const folder = join(dir, 'folder');
    for (const [cls, colour] of [
      ['red', [255, 0, 0]],
      ['blue', [0, 0, 255]],
    ] as const) {
      mkdirSync(join(folder, cls), { recursive: true });
      for (let i = 0; i < 3; i++)
        await sharp({
          create: {
            width: 64,
            height: 64,
            channels: 3,
            background: { r: colour[0], g: colour[1], b: colour[2] },
          },
        })
          .png()
          .toFile(join(folder, cls, `${i}.png`));
    }
    const out = join(dir, 'folder.json');
    const r = await cli('scan', '--data', folder, '--top', '2', '--out', out, '--quiet', '--json');
    expect(JSON.parse(r.out)).toMatchObject({ finished: true, scanned: 6 });
    const index = read(out);
    expect(index.data).toMatchObject({ split: 'all', classes: ['blue', 'red'], length: 6 });
    expect(index.classCounts).toEqual([3, 3]);
    const png = join(dir, 'patches.png');
    const p = await cli('patches', '--index', out, '--channels', '0-2', '--out', png);
    expect(p.err).toBe('');
    expect(p.out).toContain('3 channels × top 2 patches of features');
    const meta = await sharp(png).metadata();
    expect(meta.width).toBeGreaterThan(200);
    const bad = await cli('patches', '--index', out, '--channels', '64', '--out', png);
    expect(bad.err).toMatch(/channel 64 is out of range: "features" has channels 0-63/);
  });

  it('channels reports a class × channel heat map and selective channels per class', async () => {
    const out = join(dir, 'ch.png');
    const r = await cli('channels', '--range', '0:120', '--out', out, '--json', '--per-class', '2');
    expect(r.err).toBe('');
    const { layer, perClass } = JSON.parse(r.out);
    expect(layer).toBe('features');
    expect(perClass.map((c: { class: string }) => c.class)).toEqual([
      'circle',
      'square',
      'triangle',
      'star',
      'cross',
      'ring',
    ]);
    const saved = JSON.parse(readFileSync(join(dir, 'ch.json'), 'utf8'));
    expect(saved.means).toHaveLength(6);
    expect(saved.means[0]).toHaveLength(64);
    // The listed channels are the most selective of their class.
    for (const [k, c] of perClass.entries())
      expect(c.channels[0].selectivity).toBe(Math.max(...saved.selectivity[k]));
  });
});
