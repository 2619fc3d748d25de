import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../data/npy.js';
import { cli } from './harness.js';

let dir: string;
const photo = (name: string) => join(import.meta.dirname, '..', '..', 'assets', 'photos', name);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-synthesis-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convlens visualize', () => {
  it('draws the first channels of a layer with the Fourier parameterisation', async () => {
    const out = join(dir, 'vis');
    const r = await cli(
      'visualize',
      '--model',
      'shapes-gap',
      '--layer',
      'relu2',
      '--first',
      '3',
      '--param',
      'fft',
      '--rotate',
      '5',
      '--scale',
      '0.95,1.05',
      '--steps',
      '12',
      '--out',
      out,
      '--json',
    );
    expect(r.err).toBe('');
    const summary = JSON.parse(r.out);
    expect(summary.results.map((x: { target: string }) => x.target)).toEqual(
      [0, 1, 2].map((k) => `channel:relu2:${k}`),
    );
    // The default periodic blur is dropped for a Fourier image; the transforms are kept.
    expect(summary.params).toMatchObject({
      param: 'fft',
      blurEvery: 0,
      transforms: { rotate: 5, scale: [0.95, 1.05] },
    });
    for (const x of summary.results) expect(x.objective.end).toBeGreaterThan(x.objective.start);
    expect(existsSync(join(out, 'grid.png'))).toBe(true);
  });

  it('refuses a blur it cannot apply, and layers that do not exist', async () => {
    const blur = await cli(
      'visualize',
      '--param',
      'fft',
      '--blur-every',
      '2',
      '--steps',
      '1',
      '--out',
      join(dir, 'x'),
    );
    expect(blur.code).toBe(1);
    expect(blur.err).toMatch(/blurEvery edit pixels directly and need the plain pixel parameterisation/);
    const layer = await cli(
      'visualize',
      '--target',
      'channel:relu9:0',
      '--steps',
      '1',
      '--out',
      join(dir, 'x'),
    );
    expect(layer.err).toMatch(/layer "relu9" not found; nearest: relu1/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});

describe('convlens attack', () => {
  it('reports the prediction before and after with the perturbation norms', async () => {
    const out = join(dir, 'atk');
    const r = await cli('attack', '--data', 'mnist', '--count', '2', '--eps', '0.4', '--out', out, '--json');
    expect(r.err).toBe('');
    const records = JSON.parse(r.out);
    expect(records).toHaveLength(2);
    for (const x of records) {
      expect(x.linf).toBeLessThanOrEqual(0.4 + 1e-6);
      expect(x.success).toBe(x.after[0].class !== x.before[0].class);
    }
    expect(readdirSync(out)).toContain('mnist-0.perturbation.png');
  });

  it('refuses ε out of range', async () => {
    const r = await cli('attack', '--data', 'mnist', '--eps', '1.5', '--out', join(dir, 'bad-eps'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ε 1.5 is out of range: linf ε is in \(0, 1\]/);
  });
});

describe('convlens dream, invert, texture, style', () => {
  it('dream amplifies a layer over octaves and keeps the image size', async () => {
    const out = join(dir, 'dream');
    const r = await cli(
      'dream',
      '--image',
      photo('chelsea.png'),
      '--layer',
      'relu2',
      '--octaves',
      '3',
      '--steps',
      '4',
      '--max-size',
      '96',
      '--out',
      out,
      '--json',
    );
    expect(r.err).toBe('');
    const s = JSON.parse(r.out);
    expect(s.size).toEqual([64, 96]);
    expect(s.octaves.map((o: { size: number[] }) => o.size)).toEqual([
      [33, 49],
      [46, 69],
      [64, 96],
    ]);
    for (const o of s.octaves) expect(o.objectiveEnd).toBeGreaterThan(o.objectiveStart);
    expect(decodeNpy(readFileSync(join(out, 'chelsea.dream.npy'))).shape).toEqual([1, 3, 64, 96]);
  });

  it('invert writes one inversion per layer; deeper layers keep less of the digit', async () => {
    const out = join(dir, 'invert');
    const r = await cli(
      'invert',
      '--data',
      'mnist',
      '--layers',
      'relu1,logits',
      '--steps',
      '150',
      '--out',
      out,
      '--json',
    );
    expect(r.err).toBe('');
    const [record] = JSON.parse(r.out).results;
    const [early, late] = record.layers;
    expect(early.relativeFeatureError).toBeLessThan(0.15);
    expect(late.pixelRmse).toBeGreaterThan(3 * early.pixelRmse);
    expect(readdirSync(out).sort()).toEqual([
      'grid.png',
      'invert.json',
      'mnist-0.logits.npy',
      'mnist-0.logits.png',
      'mnist-0.relu1.npy',
      'mnist-0.relu1.png',
    ]);
  });

  it('texture from brick.png with random features lowers every Gram loss by ≥ 90% at another size', async () => {
    const out = join(dir, 'texture');
    const r = await cli(
      'texture',
      '--image',
      photo('brick.png'),
      '--random-features',
      '--rf-sizes',
      '3,7',
      '--rf-filters',
      '16',
      '--size',
      '40',
      '--source-size',
      '64',
      '--steps',
      '120',
      '--out',
      out,
      '--json',
    );
    expect(r.err).toBe('');
    const s = JSON.parse(r.out);
    expect(s.size).toEqual([40, 40]);
    for (const l of s.layers) expect(l.gramLossEnd).toBeLessThan(0.1 * l.gramLossStart);
  });

  it('style keeps the content close while the style losses fall', async () => {
    const out = join(dir, 'style');
    const r = await cli(
      'style',
      '--content',
      photo('chelsea.png'),
      '--style',
      photo('flower.jpg'),
      '--max-size',
      '48',
      '--steps',
      '60',
      '--out',
      out,
      '--json',
    );
    expect(r.err).toBe('');
    const s = JSON.parse(r.out);
    const [content, ...styles] = s.terms;
    expect(content.term).toBe('content:relu3');
    for (const t of styles) expect(t.lossEnd).toBeLessThan(0.5 * t.lossStart);
    expect(content.lossEnd).toBeLessThan(
      styles.reduce((a: number, t: { lossStart: number }) => a + t.lossStart, 0),
    );
  });

  it('names a style image that cannot be read, and writes nothing', async () => {
    const bad = join(dir, 'not-an-image.png');
    writeFileSync(bad, 'hello');
    const out = join(dir, 'bad-style');
    const r = await cli('style', '--content', photo('chelsea.png'), '--style', bad, '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--style: image ".*not-an-image.png" could not be read/);
    const missing = await cli('texture', '--image', join(dir, 'nope.png'), '--out', out);
    expect(missing.err).toMatch(/--image: image ".*nope.png" does not exist/);
    const layer = await cli('texture', '--image', photo('brick.png'), '--layers', 'gap', '--out', out);
    expect(layer.err).toMatch(
      /--layers: "gap" is not a spatial layer of the model; spatial layers: input, conv1, relu1/,
    );
    expect(existsSync(out)).toBe(false);
  });
});
