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
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCard } from '../data/card.js';
import { conceptFolderSource } from '../data/conceptFolder.js';
import { shapesConcepts } from '../data/concepts.js';
import { normalizeInto, preprocessing } from '../data/preprocess.js';
import { dissect } from '../methods/inspect/dissect/dissect.js';
import { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';
import { resolveModel } from './common.js';
import { cli, writePng } from './harness.js';

let dir: string;
let folder: string;

/** Save an H×W 0–255 label plane as a greyscale PNG. */
const writeLabels = (file: string, labels: Uint8Array, size: number) =>
  sharp(Buffer.from(labels), { raw: { width: size, height: size, channels: 1 } })
    .png()
    .toFile(file);

/** A concept folder made from six shapes-concepts images: object labels per category image, colour masks per concept. */
async function makeFolder(root: string): Promise<string> {
  const f = join(root, 'concepts');
  for (const sub of ['images', 'labels/object', 'masks/red', 'masks/blue'])
    mkdirSync(join(f, sub), { recursive: true });
  const data = shapesConcepts({ length: 6, seed: 2 });
  const names = data.vocabulary.concepts.map((c) => c.name);
  const objects = ['circle', 'square', 'triangle', 'star', 'cross', 'ring'];
  writeFileSync(
    join(f, 'concepts.json'),
    JSON.stringify({
      concepts: [
        ...objects.map((name, i) => ({ name, category: 'object', label: i + 1 })),
        { name: 'red', category: 'colour' },
        { name: 'blue', category: 'colour' },
      ],
    }),
  );
  for (let i = 0; i < data.length; i++) {
    const s = await data.load(i);
    await writePng(join(f, 'images', `img${i}.png`), s.image, 64);
    const labels = new Uint8Array(64 * 64);
    for (const { concept, mask } of s.concepts) {
      const k = objects.indexOf(names[concept]);
      if (k >= 0) for (let p = 0; p < mask.length; p++) if (mask[p]) labels[p] = k + 1;
      if (names[concept] === 'red' || names[concept] === 'blue')
        await writeLabels(
          join(f, 'masks', names[concept], `img${i}.png`),
          mask.map((v) => 255 * v),
          64,
        );
    }
    await writeLabels(join(f, 'labels', 'object', `img${i}.png`), labels, 64);
  }
  return f;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-dissect-'));
  folder = await makeFolder(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('concept folders', () => {
  it('load label images and per-concept masks as the masks they were made from', async () => {
    const source = conceptFolderSource(folder, preprocessing([64, 64], 3));
    const shapes = shapesConcepts({ length: 6, seed: 2 });
    expect(source.vocabulary.categories).toEqual(['object', 'colour']);
    for (let i = 0; i < 6; i++) {
      const got = await source.load(i);
      const want = await shapes.load(i);
      const byName = (s: typeof got, vocab: typeof source.vocabulary) =>
        Object.fromEntries(s.concepts.map((c) => [vocab.concepts[c.concept].name, [...c.mask]]));
      const expected = byName(want, shapes.vocabulary);
      for (const [name, mask] of Object.entries(byName(got, source.vocabulary)))
        expect(mask).toEqual(expected[name]);
    }
  });
});

describe('convlens dissect', () => {
  it('lists the concepts of shapes-concepts', async () => {
    const r = await cli('dissect', '--list-concepts');
    expect(r.code).toBe(0);
    expect(r.out).toContain('part: star tip, cross arm, ring hole, corner, outline');
    expect(r.out.split('\n')[0]).toBe('object: circle, square, triangle, star, cross, ring, background');
  });

  it('writes dissect.json, the summary and unit grids; shards merged and finished match one run', async () => {
    const whole = join(dir, 'whole');
    const r = await cli(
      'dissect',
      '--images',
      '40',
      '--layers',
      'relu1,features',
      '--batch',
      '16',
      '--out',
      whole,
      '-q',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const files = readdirSync(whole).sort();
    expect(files).toContain('dissect.json');
    expect(files).toContain('summary.png');
    const result = JSON.parse(readFileSync(join(whole, 'dissect.json'), 'utf8'));
    expect(result.layers.map((l: { layer: string }) => l.layer)).toEqual(['relu1', 'features']);
    for (const l of result.layers) {
      expect(l.units).toHaveLength(l.shape[0]);
      if (l.interpretable > 0) expect(files).toContain(`${l.layer}.units.png`);
    }
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const merged = join(dir, 'merged');
    const flags = ['--images', '40', '--layers', 'relu1,features', '--batch', '16', '-q'];
    expect((await cli('dissect', ...flags, '--range', '0:15', '--out', a)).code).toBe(0);
    expect((await cli('dissect', ...flags, '--range', '15:40', '--out', b)).code).toBe(0);
    expect(readdirSync(a)).toEqual(['dissect.state.json']);
    expect((await cli('merge-dissections', a, b, '--out', merged)).code).toBe(0);
    expect((await cli('dissect', ...flags, '--resume', '--out', merged)).code).toBe(0);
    expect(JSON.parse(readFileSync(join(merged, 'dissect.json'), 'utf8'))).toEqual(result);
  });

  it('dissects a concept folder', async () => {
    const out = join(dir, 'folder');
    const r = await cli('dissect', '--data', folder, '--layers', 'features', '--out', out, '--json', '-q');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out);
    expect(result.data.categories).toEqual(['object', 'colour']);
    expect(result.layers[0].units[0].top.every((t: { concept: string }) => t.concept !== 'background')).toBe(
      true,
    );
    // The numbers are those of the library's dissection of the same folder with the model's preprocessing.
    const { model } = resolveModel('shapes-gap');
    const p = readCard(model)!.preprocessing;
    const m = new ConvlensModel(model, nodeBackend());
    const direct = await dissect(m, conceptFolderSource(folder, p), {
      layers: ['features'],
      toInput: (s, x, offset) => normalizeInto(s.image, p.channels, p, x, offset),
    });
    await m.release();
    expect(result.layers).toEqual(JSON.parse(JSON.stringify(direct.result.layers)));
  });

  it.each([
    [['--quantile', '1'], /--quantile must be a number in \(0, 1\), got "1"/],
    [['--layers', 'gap'], /layer "gap" .* has no spatial extent/],
    [['--layers', 'globalaveragepool_22'], /no spatial extent/],
    [['--data', 'no/such/folder'], /neither shapes-concepts nor an existing concept folder/],
  ])('rejects %j with a clear error and writes nothing', async (args, message) => {
    const out = join(dir, `bad-${String(args[1]).replace(/\W/g, '')}`);
    const r = await cli('dissect', '--images', '8', ...(args as string[]), '--out', out, '-q');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    [
      'a mask of another size',
      async (f: string) => writeLabels(join(f, 'masks', 'red', 'img0.png'), new Uint8Array(32 * 32), 32),
      /is 32×32 but its image is 64×64/,
    ],
    [
      'a label the concepts file does not name',
      async (f: string) =>
        writeLabels(join(f, 'labels', 'object', 'img1.png'), new Uint8Array(64 * 64).fill(9), 64),
      /has label 9, which concepts.json does not name for category "object"/,
    ],
    [
      'a mask folder for an unknown concept',
      async (f: string) => mkdirSync(join(f, 'masks', 'green')),
      /masks\/green\/ names a concept concepts.json does not have/,
    ],
    [
      'no images',
      async (f: string) => rmSync(join(f, 'images'), { recursive: true }),
      /has no images\/ folder/,
    ],
  ])('rejects a concept folder with %s', async (what, spoil, message) => {
    const root = mkdtempSync(join(dir, 'spoilt-'));
    const f = await makeFolder(root);
    await spoil(f);
    const out = join(root, 'out');
    const r = await cli('dissect', '--data', f, '--layers', 'features', '--out', out, '-q');
    expect(r.code, what).not.toBe(0);
    expect(r.err).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});
