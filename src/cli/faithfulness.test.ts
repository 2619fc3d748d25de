import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../data/npy.js';
import { explain } from '../methods/attribution/index.js';
import { Explainer } from '../methods/attribution/pipeline.js';
import { evaluateFaithfulness } from '../methods/evaluation/index.js';
import { cardFor, resolveModel } from './common.js';
import { cli } from './harness.js';
import { datasetInputs } from './inputs.js';
import { openModel } from './runtime.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-faithfulness-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convlens faithfulness', () => {
  it('writes the table, the curves and the page; its numbers are the library’s, and maps from .npy score like the method that made them', async () => {
    // Grad-CAM maps of the same 4 shapes test images, made by the library and saved as .npy.
    const { model } = resolveModel('shapes-gap');
    const card = cardFor(model, {});
    const inputs = await datasetInputs('shapes', card, 4);
    const m = openModel(model);
    const explainer = new Explainer(m, inputs.input, {
      logits: card.tensors?.logits,
      classes: card.classes,
      features: card.tensors?.features,
    });
    const { maps } = await explain(explainer, { methods: ['gradcam'] });
    const library = await evaluateFaithfulness(explainer, {
      methods: ['saliency', 'gradcam'],
      metrics: ['deletion', 'insertion', 'pointing', 'energy'],
      masks: inputs.masks,
    });
    await m.release();
    const npy = join(dir, 'mine.npy');
    writeFileSync(npy, encodeNpy(maps[0].data, maps[0].dims));

    const out = join(dir, 'run');
    const r = await cli(
      'faithfulness',
      '--count',
      '4',
      '--methods',
      'saliency,gradcam',
      '--metrics',
      'deletion,insertion,pointing,energy',
      '--maps',
      npy,
      '--out',
      out,
      '--quiet',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/deletion AUC ↓\s+insertion AUC ↑\s+pointing ↑\s+energy PG ↑/);
    for (const f of [
      'faithfulness.json',
      'faithfulness.md',
      'faithfulness.html',
      'deletion.svg',
      'insertion.png',
    ])
      expect(existsSync(join(out, f)), f).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'faithfulness.json'), 'utf8'));
    expect(report.methods).toEqual(['saliency', 'gradcam', 'mine']);
    for (const k of [0, 1]) expect(report.rows[k].scores).toEqual(library.rows[k].scores);
    expect(report.rows[2].scores).toEqual(report.rows[1].scores);
    const md = readFileSync(join(out, 'faithfulness.md'), 'utf8');
    expect(md.split('\n')[0]).toBe(
      '| method | deletion AUC ↓ | insertion AUC ↑ | pointing ↑ | energy PG ↑ |',
    );
    const html = readFileSync(join(out, 'faithfulness.html'), 'utf8');
    expect(html.match(/<tr data-method=/g)).toHaveLength(3);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src="http/);
  });

  describe('bad input: a clear error, exit 1, nothing written', () => {
    const cases: [string, string[], RegExp][] = [
      [
        'a pointing game on data without masks',
        ['--model', 'digits-gap', '--data', 'mnist', '--metrics', 'pointing'],
        /metric "pointing" needs object masks/,
      ],
      ['a step of 0', ['--step', '0'], /--step.*expected a fraction of the pixels in \(0, 1\)/],
      ['a fractional step above 1', ['--step', '1.5'], /--step.*whole number of pixels/],
      [
        'a step larger than the image',
        ['--step', '5000', '--metrics', 'deletion'],
        /pixels in \[1, 4096\], got 5000/,
      ],
      ['a ROAD fraction of 1', ['--road-fractions', '0.5,1'], /expected fractions in \(0, 1\)/],
      [
        'an unknown metric',
        ['--metrics', 'deletion,auroc'],
        /unknown metric "auroc"; valid metrics: deletion, insertion/,
      ],
      [
        'an unknown method',
        ['--methods', 'gradkam'],
        /unknown method "gradkam"; valid methods, nearest first: gradcam/,
      ],
      ['an unknown substrate', ['--deletion-substrate', 'noise'], /Allowed choices are zero, blur, mean/],
      [
        'maps of another size',
        ['--maps', 'WRONG', '--metrics', 'deletion'],
        /external maps "wrong" of 5×7 do not match images of 64×64/,
      ],
      [
        'maps for fewer images',
        ['--maps', 'SHORT', '--metrics', 'deletion'],
        /1 maps for 2 images; give one map per image/,
      ],
      ['a maps file that does not exist', ['--maps', 'nope.npy'], /--maps "nope.npy" does not exist/],
      [
        'data randomisation of a model without a recipe',
        ['--model', 'zoo:resnet', '--size', '64,64', '--data-randomization', '1'],
        /--data-randomization retrains the model's recipe, and ".*" has none; recipes: digits-gap, shapes-gap/,
      ],
    ];
    beforeAll(() => {
      writeFileSync(join(dir, 'wrong.npy'), encodeNpy(new Float32Array(2 * 35), [2, 5, 7]));
      writeFileSync(join(dir, 'short.npy'), encodeNpy(new Float32Array(4096), [1, 64, 64]));
    });
    it.each(cases)('%s', async (name, args, error) => {
      const out = join(dir, `bad-${name.replace(/\W+/g, '-')}`);
      const given = args.map((a) =>
        a === 'WRONG' ? join(dir, 'wrong.npy') : a === 'SHORT' ? join(dir, 'short.npy') : a,
      );
      const r = await cli('faithfulness', '--count', '2', ...given, '--out', out, '--quiet');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(error);
      expect(existsSync(out)).toBe(false);
    });
  });
});

describe('convlens report --faithfulness', () => {
  it('adds the table and the charts of the same maps to the page', async () => {
    const out = join(dir, 'report.html');
    const r = await cli(
      'report',
      '--count',
      '2',
      '--method',
      'saliency,gradcam',
      '--faithfulness',
      '--quiet',
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    const html = readFileSync(join(out), 'utf8');
    expect(html.match(/<section class="sample"/g)).toHaveLength(2);
    expect(html).toContain('<section class="faithfulness">');
    expect(html.match(/<tr data-method="(saliency|gradcam)">/g)).toHaveLength(2);
    // shapes has masks: the pointing games are in; the randomisation curves are charted.
    expect(html).toMatch(/pointing ↑/);
    expect(html).toMatch(/cascading randomisation/);
    expect(html).not.toMatch(/<script/);
  });
});
