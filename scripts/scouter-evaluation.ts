/**
 * The SCOUTER models against the paper's measures (Li et al. 2021, §4) and the README's figures:
 * - accuracy of each shipped SCOUTER model beside its backbone's own GAP head (the twin);
 * - area size: the mean attention of the predicted class's map over the test images (SCOUTER's
 *   explanations should be small);
 * - on shapes: box accuracy at IoU ≥ 0.5 of SCOUTER+ maps and of Grad-CAM on the backbone, each at
 *   its threshold chosen on the validation split (swept 0.05…0.95 of the map's maximum), and the
 *   precision of the attended region against the object masks (the energy pointing game: the
 *   share of the map's energy on the true class's objects);
 * - figures: SCOUTER+ beside Grad-CAM on shapes test images; SCOUTER− "why not" maps on digits.
 *
 * Run: npx tsx scripts/scouter-evaluation.ts [--limit N] [--figures DIR]
 */
import { join } from 'node:path';
import { modelsDir } from '../src/cli/common.js';
import { readCard } from '../src/data/card.js';
import { classMask, type Dataset } from '../src/data/dataset.js';
import { loadDatasetSplits } from '../src/data/node.js';
import { batchTensor, type Preprocessing } from '../src/data/preprocess.js';
import { Explainer, explain } from '../src/methods/attribution/index.js';
import { calibrateBoxThreshold, evaluateLocalization, thresholdRange } from '../src/methods/attribution/localizationEval.js';
import { relevancePlanes } from '../src/methods/evaluation/planes.js';
import { pointingGame } from '../src/methods/evaluation/pointingGame.js';
import { readModelFile } from '../src/node.js';
import { renderAttribution } from '../src/render/attribution.js';
import { planarImage } from '../src/cli/synthesis.js';
import type { GridRow } from '../src/render/grid.js';
import { gridPng } from '../src/render/node.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';
import { SCOUTER_RECIPES } from '../src/train/scouterRecipes.js';
import { writeFileSync } from 'node:fs';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const limit = Number(arg('--limit') ?? 500);
const figures = arg('--figures') ?? 'docs/images';
const SWEEP = thresholdRange(0.05, 0.95, 0.025);

const open = (name: string) => {
  const model = readModelFile(join(modelsDir(), `${name}.onnx`));
  const card = readCard(model)!;
  return { model: new ConvlensModel(model, nodeBackend()), card };
};
const first = (data: Dataset, n: number): Dataset => ({ ...data, length: Math.min(n, data.length) });

/** Mean attention of the predicted class over `data` (the area size of the explanations). */
async function areaSize(m: ConvlensModel, p: Preprocessing, data: Dataset): Promise<number> {
  let sum = 0;
  for (let start = 0; start < data.length; start += 100) {
    const indices = Array.from({ length: Math.min(100, data.length - start) }, (_, k) => start + k);
    const { input } = batchTensor(data, indices, p);
    const r = await explain(new Explainer(m, input), { methods: ['scouter'] });
    const map = r.maps[0].data;
    sum += map.reduce((a, v) => a + v, 0) / (map.length / indices.length);
  }
  return sum / data.length;
}

/** Energy pointing game of a method's true-class maps against the true class's object masks. */
async function maskPrecision(m: ConvlensModel, p: Preprocessing, data: Dataset, method: string, card: { logits?: string; features?: string }) {
  let energy = 0;
  let scored = 0;
  for (let start = 0; start < data.length; start += 100) {
    const indices = Array.from({ length: Math.min(100, data.length - start) }, (_, k) => start + k);
    const { input, labels } = batchTensor(data, indices, p);
    const r = await explain(new Explainer(m, input, card), {
      methods: [method],
      target: { kind: 'classes', indices: Array.from(labels) },
    });
    const planes = relevancePlanes(r.maps[0].data, r.maps[0].dims, data.height, data.width);
    const masks = indices.map((index) => classMask(data.get(index)));
    const g = pointingGame(planes, masks);
    energy += g.meanEnergy * g.scored;
    scored += g.scored;
  }
  return energy / scored;
}

const rows: string[] = [];
for (const recipe of SCOUTER_RECIPES) {
  const s = open(recipe.name);
  const p = s.card.preprocessing;
  const splits = await loadDatasetSplits(recipe.dataset, p);
  const test = first(splits.test, limit);
  const backbone = open(recipe.backbone);
  const area = await areaSize(s.model, p, test);
  let boxes = '';
  let precision = '';
  if (recipe.dataset === 'shapes' && recipe.lambda === 1) {
    const validation = first(splits.validation!, limit);
    const bb = { logits: backbone.card.tensors?.logits, features: backbone.card.tensors?.features };
    const calScouter = await calibrateBoxThreshold(s.model, validation, p, { method: 'scouter', thresholds: SWEEP });
    const calGradcam = await calibrateBoxThreshold(backbone.model, validation, p, { method: 'gradcam', thresholds: SWEEP, ...bb });
    const boxScouter = await evaluateLocalization(s.model, test, p, { method: 'scouter', threshold: calScouter.threshold });
    const boxGradcam = await evaluateLocalization(backbone.model, test, p, { method: 'gradcam', threshold: calGradcam.threshold, ...bb });
    boxes = `${(100 * boxScouter.boxAccuracy).toFixed(1)}% (at ${calScouter.threshold}) vs Grad-CAM ${(100 * boxGradcam.boxAccuracy).toFixed(1)}% (at ${calGradcam.threshold})`;
    const [ps, pg] = [await maskPrecision(s.model, p, test, 'scouter', {}), await maskPrecision(backbone.model, p, test, 'gradcam', bb)];
    precision = `${(100 * ps).toFixed(1)}% vs Grad-CAM ${(100 * pg).toFixed(1)}%`;
  }
  rows.push(
    `| \`${recipe.name}\` | ${(100 * s.card.testAccuracy!).toFixed(2)}% | ${(100 * backbone.card.testAccuracy!).toFixed(2)}% | ${s.card.training?.seconds} s | ${area.toFixed(3)} | ${boxes || '–'} | ${precision || '–'} |`,
  );
  console.error(`${recipe.name} done`);
  await Promise.all([s.model.release(), backbone.model.release()]);
}
console.log(`| model | test accuracy | its backbone (GAP head) | training | area size (mean attention of the predicted class) | box accuracy, shapes test (IoU ≥ 0.5) | energy on the object masks |`);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);

// Figures. SCOUTER+ beside Grad-CAM on shapes test images.
{
  const s = open('shapes-scouter+');
  const b = open('shapes-gap');
  const p = s.card.preprocessing;
  const { test } = await loadDatasetSplits('shapes', p);
  const indices = [0, 1, 2, 3, 4, 5];
  const { input, labels } = batchTensor(test, indices, p);
  const sc = await explain(new Explainer(s.model, input, { classes: s.card.classes }), { methods: ['scouter'] });
  const gc = await explain(new Explainer(b.model, input, {
      logits: b.card.tensors?.logits,
      features: b.card.tensors?.features,
      classes: b.card.classes,
    }), { methods: ['gradcam'] });
  const figureRows: GridRow[] = [];
  for (const [label, r] of [['SCOUTER+', sc], ['Grad-CAM (shapes-gap)', gc]] as const)
    figureRows.push({
      label,
      cells: indices.map((index, k) => ({
        image: renderAttribution(r.maps[0], k, planarImage(test.get(index).image, 0, test.channels, test.height, test.width), { displaySize: 128 }).image,
        caption: `${s.card.classes[labels[k]]} → ${r.maps[0].target.labels[k]}`,
      })),
    });
  writeFileSync(join(figures, 'scouter-vs-gradcam.png'), await gridPng(figureRows, { cell: 128, title: 'shapes test images: SCOUTER+ attention of the predicted class, and Grad-CAM' }));
  await Promise.all([s.model.release(), b.model.release()]);
}
// SCOUTER− "why not": for digits, the predicted class and the maps of two classes that lost.
{
  const s = open('digits-scouter-');
  const p = s.card.preprocessing;
  const { test } = await loadDatasetSplits('mnist', p);
  const figureRows: GridRow[] = [];
  // Five test digits of different classes (the split is ordered by class).
  for (const index of [250, 650, 1050, 1450, 1850]) {
    const { input } = batchTensor(test, [index], p);
    const ex = new Explainer(s.model, input);
    const logits = (await ex.activations(s.card.tensors!.logits!)).data as Float32Array;
    const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
    const classes = [order[0], order[1], order[order.length - 1]];
    const cells = [];
    for (const c of classes) {
      const r = await explain(new Explainer(s.model, input), { methods: ['scouter'], target: { kind: 'classes', indices: [c] } });
      const item = test.get(index);
      cells.push({
        image: renderAttribution(r.maps[0], 0, planarImage(item.image, 0, test.channels, test.height, test.width), {
          displaySize: 112,
          // No box: the map's shape is the point here.
          box: false,
        }).image,
        caption: c === order[0] ? `${c}: predicted` : `why not ${c}`,
      });
    }
    figureRows.push({ label: `a ${test.get(index).label}`, cells });
  }
  writeFileSync(join(figures, 'scouter-why-not.png'), await gridPng(figureRows, { cell: 112, title: 'digits-scouter−: the evidence against each class (each map scaled to its own maximum); the predicted class has the least' }));
  await s.model.release();
}
