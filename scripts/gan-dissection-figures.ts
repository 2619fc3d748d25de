/**
 * The README's GAN-dissection measurements and pictures on the shipped shapes-gan and shapes-seg:
 * a sample grid with segmentations; the units labelled per class at a layer; per class, the
 * ablation curve of its top-k units (ranked by single-unit ablation on one set of latents,
 * measured on another); insertion of its top units at four points; a before / ablated / inserted
 * picture for one class.
 *
 *   npx tsx scripts/gan-dissection-figures.ts [--layer block3] [--class circle] [--samples 400] [--out docs/images]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCard } from '../src/data/card.js';
import { readGeneratorCard } from '../src/data/generatorCard.js';
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
    generator: { type: 'string', default: 'models/shapes-gan.onnx' },
    layer: { type: 'string' },
    class: { type: 'string', default: 'circle' },
    samples: { type: 'string', default: '400' },
    insert: { type: 'string', default: '4' },
    out: { type: 'string', default: 'docs/images' },
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
const layer = values.layer ?? readGeneratorCard(generator)!.defaultLayer!;
const area = pair.image[1] * pair.image[2];
const pct = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(0)}%`;
const t0 = performance.now();

const dissection = await dissectGenerator(pair, { layer, samples: 1000 });
const units = dissection.layers[0].units;
console.log(`dissection of ${layer} (1000 samples): ${dissection.layers[0].interpretable}/${units.length} units labelled`);

const ranking = await unitAblationEffects(pair, layer, latents(1, 0, n, pair.latent.size), n);
const z = latents(0, 0, n, pair.latent.size);
const before = await pair.generate(z, n);
const base = classFractions(before.classes, n, area, pair.classes.length);
const background = pair.classIndex('background');
const quantiles = await unitQuantiles(pair, layer, z, n);
const points: [number, number][] = [
  [8, 8],
  [24, 8],
  [8, 24],
  [24, 24],
];
const ks = [1, 2, 4, 8];
const k = Number(values.insert);
console.log(`\n| class | share of image | units labelled (IoU) | ablating top ${ks.join(' / ')}: class | other shapes | inserting top ${k}: appears |`);
console.log('|---|---|---|---|---|---|');
for (const [c, name] of pair.classes.entries()) {
  if (c === background) continue;
  const ranked = rankUnits(ranking.effects, c);
  const curve = await ablationCurve(pair, layer, ranked, c, ks, z, n, base, [background]);
  let appeared = 0;
  for (const at of points) {
    const region = regionAround(pair, layer, at, 2);
    const edit = unitEdit(pair, layer, ranked.slice(0, k), quantiles, region);
    appeared += (await insertionTrials(pair, edit, region, c, z, n)).appeared;
  }
  const labelled = units
    .filter((u) => u.label === name)
    .sort((a, b) => b.iou - a.iou)
    .map((u) => `${u.unit} (${u.iou.toFixed(2)})`);
  console.log(
    `| ${name} | ${(100 * base[c]).toFixed(1)}% | ${labelled.join(', ') || '–'} | ${curve.map((p) => pct(p.relativeChange)).join(' / ')} | ${curve.map((p) => pct(p.otherChange)).join(' / ')} | ${((100 * appeared) / (points.length * n)).toFixed(0)}% |`,
  );
}

const c = pair.classIndex(values.class!);
const ranked = rankUnits(ranking.effects, c);
const show = 8;
const zs = z.subarray(0, show * pair.latent.size);
const shown = await pair.generate(zs, show);
const ablated = await pair.generate(zs, show, { edit: ablation(pair, layer, ranked.slice(0, 4)) });
const region = regionAround(pair, layer, [24, 24], 2);
const inserted = await pair.generate(zs, show, {
  edit: unitEdit(pair, layer, ranked.slice(0, k), quantiles, region),
});
const label = (rows: ReturnType<typeof segmentationRows>, title: string) =>
  rows.map((row, i) => ({ ...row, label: i === 0 ? title : 'segmented' }));
const rows = [
  ...label(segmentationRows(pair.image, shown.images, show, shown.classes), 'samples'),
  ...label(segmentationRows(pair.image, ablated.images, show, ablated.classes), `top 4 ${values.class} off`),
  ...label(segmentationRows(pair.image, inserted.images, show, inserted.classes), `top ${k} on at 24,24`),
  legendRow(pair.classes),
];
writeFileSync(join(values.out!, 'gan-dissection.png'), await gridPng(rows, { cell: 80 }));
const grid = await pair.generate(latents(0, 0, 24, pair.latent.size), 24);
writeFileSync(
  join(values.out!, 'gan-samples.png'),
  await gridPng([...segmentationRows(pair.image, grid.images, 24, grid.classes), legendRow(pair.classes)], { cell: 64 }),
);
console.log(`\n${((performance.now() - t0) / 1000).toFixed(0)} s`);
await pair.release();
