/**
 * The README's GAN-dissection measurements and pictures on the shipped shapes-gan and shapes-seg:
 * sample grid with segmentations, the units labelled per class at a layer, the ablation curve of
 * one class (its top-k units by single-unit ablation effect), and insertion trials at a point.
 *
 *   npx tsx scripts/gan-dissection-figures.ts [--layer block2] [--class circle] [--samples 400]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCard } from '../src/data/card.js';
import {
  ablation,
  ablationCurve,
  classFractions,
  insertionTrials,
  rankUnits,
  regionAround,
  unitAblationEffects,
  unitEdit,
  unitQuantiles,
} from '../src/methods/inspect/gan/effects.js';
import { dissectGenerator } from '../src/methods/inspect/gan/ganDissect.js';
import { GanPair, latents } from '../src/methods/inspect/gan/pair.js';
import { readModelFile } from '../src/node.js';
import { gridPng } from '../src/render/node.js';
import { legendRow, segmentationRows } from '../src/render/segmentation.js';
import { nodeBackend } from '../src/runtime/node.js';

const { values } = parseArgs({
  options: {
    layer: { type: 'string', default: 'block2' },
    class: { type: 'string', default: 'circle' },
    samples: { type: 'string', default: '400' },
    top: { type: 'string', default: '20' },
    out: { type: 'string', default: 'docs/images' },
    at: { type: 'string', default: '16,16,1' },
    generator: { type: 'string', default: 'models/shapes-gan.onnx' },
  },
});
const n = Number(values.samples);
const generator = readModelFile(values.generator!);
const segmenter = readModelFile('models/shapes-seg.onnx');
const card = readCard(segmenter)!;
const pair = await GanPair.open(
  { generator, segmenter, classes: card.classes, segmenterPreprocessing: card.preprocessing, session: { threads: 2 } },
  nodeBackend(),
);
const layer = values.layer!;
const c = pair.classIndex(values.class!);
const area = pair.image[1] * pair.image[2];
const t0 = performance.now();

const dissection = await dissectGenerator(pair, { layer, samples: 1000 });
const byClass: Record<string, string[]> = {};
for (const u of dissection.layers[0].units) if (u.label) (byClass[u.label] ??= []).push(`${u.unit} (${u.iou.toFixed(2)})`);
console.log(`dissection of ${layer}: ${dissection.layers[0].interpretable}/${dissection.layers[0].units.length} units labelled`);
for (const [k, v] of Object.entries(byClass)) console.log(`  ${k}: ${v.join(', ')}`);

const ranking = await unitAblationEffects(pair, layer, latents(1, 0, n, pair.latent.size), n);
const ranked = rankUnits(ranking.effects, c);
console.log(`class fractions (ranking set): ${pair.classes.map((k, j) => `${k} ${(100 * ranking.base[j]).toFixed(1)}%`).join(', ')}`);
console.log(`top units for ${values.class} by single-unit ablation: ${ranked.slice(0, 10).map((u) => `${u} (${(100 * ranking.effects[u][c]).toFixed(2)}%)`).join(', ')}`);

const z = latents(0, 0, n, pair.latent.size);
const before = await pair.generate(z, n);
const base = classFractions(before.classes, n, area, pair.classes.length);
const ks = [1, 2, 4, 8, 12, 16, 20, 24, 32].filter((k) => k <= Number(values.top) + 12);
const curve = await ablationCurve(pair, layer, ranked, c, ks, z, n, base, [pair.classIndex('background')]);
console.log(`ablation curve (held-out samples, ${n}):`);
for (const p of curve)
  console.log(`  k=${p.k}: ${values.class} ${(100 * p.relativeChange).toFixed(1)}%, other shapes ${(100 * p.otherChange).toFixed(1)}%`);

const [x, y, r] = values.at!.split(',').map(Number);
const region = regionAround(pair, layer, [x, y], r);
const top = ranked.slice(0, Number(values.top));
const edit = unitEdit(pair, layer, top, await unitQuantiles(pair, layer, z, n), region);
const insertion = await insertionTrials(pair, edit, region, c, z, n);
console.log(`insertion of the top ${top.length} at (${x}, ${y}) r ${r}: appeared in ${insertion.appeared}/${insertion.trials}; region ${values.class} ${(100 * insertion.before).toFixed(1)}% → ${(100 * insertion.after).toFixed(1)}%`);

const show = 8;
const ablated = await pair.generate(z.subarray(0, show * pair.latent.size), show, { edit: ablation(pair, layer, top) });
const inserted = await pair.generate(z.subarray(0, show * pair.latent.size), show, { edit });
const rows = [
  ...segmentationRows(pair.image, before.images, show, before.classes).map((row, i) => ({ ...row, label: i === 0 ? 'samples' : 'segmented' })),
  ...segmentationRows(pair.image, ablated.images, show, ablated.classes).map((row, i) => ({ ...row, label: i === 0 ? `−${top.length} ${values.class}` : 'segmented' })),
  ...segmentationRows(pair.image, inserted.images, show, inserted.classes).map((row, i) => ({ ...row, label: i === 0 ? `+${top.length} at ${x},${y}` : 'segmented' })),
  legendRow(pair.classes),
];
writeFileSync(join(values.out!, 'gan-dissection.png'), await gridPng(rows, { cell: 80 }));
const grid = await pair.generate(latents(0, 0, 32, pair.latent.size), 32);
writeFileSync(join(values.out!, 'gan-samples.png'), await gridPng([...segmentationRows(pair.image, grid.images, 32, grid.classes), legendRow(pair.classes)], { cell: 64 }));
console.log(`seconds ${((performance.now() - t0) / 1000).toFixed(0)}`);
await pair.release();
