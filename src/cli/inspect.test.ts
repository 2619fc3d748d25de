import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../data/npy.js';
import { findConvLayer } from '../methods/inspect/filters.js';
import { readModelFile } from '../node.js';
import { modelsDir } from './common.js';
import { cli } from './harness.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-inspect-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convlens filters', () => {
  it('writes the tile grid and the raw weights of the chosen Conv', async () => {
    const out = join(dir, 'f', 'conv2.png');
    const r = await cli('filters', '--layer', 'conv2', '--out', out, '--max-filters', '4');
    expect(r.err).toBe('');
    expect(r.out).toContain('conv2 [32, 16, 3, 3]: 4 filters as per-input tiles');
    const model = readModelFile(join(modelsDir(), 'shapes-gap.onnx'));
    const w = model.graph.initializers.get(findConvLayer(model.graph, 'conv2').weight)!;
    const npy = decodeNpy(readFileSync(join(dir, 'f', 'conv2.npy')));
    expect(npy.shape).toEqual([32, 16, 3, 3]);
    expect(Array.from(npy.data)).toEqual(Array.from(w.data as Float32Array));
  });

  it('names the Conv layers when the layer is not one, and writes nothing', async () => {
    const out = join(dir, 'bad', 'x.png');
    const r = await cli('filters', '--layer', 'relu1', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/"relu1" is not a Conv layer.*Conv layers: conv1, conv2, conv3, conv4/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });
});

describe('convlens activations', () => {
  it('writes a channel grid, the raw tensor and per-channel statistics', async () => {
    const out = join(dir, 'act');
    const r = await cli(
      'activations',
      '--data',
      'shapes',
      '--count',
      '2',
      '--layer',
      'relu2',
      '--out',
      out,
      '--json',
    );
    expect(r.err).toBe('');
    const records = JSON.parse(r.out);
    expect(records).toHaveLength(2);
    expect(readdirSync(out).sort()).toEqual(
      ['shapes-0', 'shapes-1'].flatMap((s) => ['json', 'npy', 'png'].map((e) => `${s}.relu2.${e}`)),
    );
    const npy = decodeNpy(readFileSync(join(out, 'shapes-1.relu2.npy')));
    expect(npy.shape).toEqual([1, 32, 32, 32]);
    const stats = records[1].channels;
    for (const c of [0, 7, 31]) {
      const plane = npy.data.subarray(c * 1024, (c + 1) * 1024);
      expect(stats[c].max).toBeCloseTo(Math.max(...plane), 5);
      expect(stats[c].fractionActive).toBeCloseTo(plane.filter((v) => v > 0).length / 1024, 6);
    }
    expect(records[0].receptiveField).toEqual({ size: [8, 8], jump: [2, 2], start: [-3, -3] });
  });

  it('refuses a layer without spatial extent, naming spatial ones', async () => {
    const r = await cli('activations', '--data', 'shapes', '--layer', 'logits', '--out', join(dir, 'none'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/layer "logits" \(Gemm, shape \[1, 6\]\) has no spatial extent; spatial layers/);
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });
});
