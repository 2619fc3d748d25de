/**
 * The README's fast style transfer figure and measurements: a shipped style network against
 * optimisation-based style transfer (`convlens style`, 300 steps, its defaults) on held-out photos,
 * with the same loss network, layers, weights and style Gram targets, so one perceptual loss
 * (content + style terms, no TV) scores both. Times: the median of 5 stylisations per image, and
 * one optimisation run per (photo, style).
 *
 * Run: npx tsx scripts/fast-style-figure.ts [models/photo-styles.onnx] [docs/images/fast-style.png] [--quick]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from '../src/cli/common.js';
import { photosDir } from '../src/cli/styleTrain.js';
import { planarImage } from '../src/cli/synthesis.js';
import { decodeImageFit } from '../src/data/node.js';
import { readStyleCard } from '../src/data/styleCard.js';
import {
  PERCEPTUAL,
  type PerceptualLossSpec,
  perceptualLossModel,
  styleTargets,
} from '../src/methods/synthesis/perceptualLoss.js';
import { randomFeatureNetwork } from '../src/methods/synthesis/randomFeatures.js';
import { Stylizer } from '../src/methods/synthesis/stylize.js';
import { type SourceImage, style } from '../src/methods/synthesis/texture.js';
import { readModelFile } from '../src/node.js';
import { float32 } from '../src/onnx/tensor.js';
import type { GridCell, GridRow } from '../src/render/grid.js';
import { gridPng } from '../src/render/node.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';
import { HELD_OUT_PHOTOS } from '../src/train/styleRecipes.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const quick = process.argv.includes('--quick');
const modelPath = args[0] ?? join(modelsDir(), 'photo-styles.onnx');
const figurePath = args[1] ?? 'docs/images/fast-style.png';
const SIDE = 256;
const OPTIMISATION_STEPS = quick ? 20 : 300;

const network = readModelFile(modelPath);
const card = readStyleCard(network);
if (!card) throw new Error(`${modelPath} is not a style network`);
const loss = card.loss as unknown as Required<PerceptualLossSpec> & { sizes: number[]; filters: number; seed: number };
const styleSize = Number(card.training?.styleSize ?? SIDE);
const rf = randomFeatureNetwork({ sizes: loss.sizes, filters: loss.filters, seed: loss.seed });
const backend = nodeBackend();
const lossNet = new ConvlensModel(rf.model, backend);
const p = rf.preprocessing;
const styles = await Promise.all(card.styles.map((s) => decodeImageFit(join(photosDir(), s.source), 3, styleSize)));
const targets = await styleTargets(lossNet, p, styles, loss.styleLayers);
const judge = new ConvlensModel(perceptualLossModel(rf.model, p, loss, targets), backend);
const stylizer = await Stylizer.open(network, backend);

const oneHot = (k: number) => card.styles.map((_, j) => (j === k ? 1 : 0));
async function perceptual(candidate: SourceImage, content: SourceImage, w: number[]) {
  const dims = [1, 3, ...content.size];
  const out = await judge.run({
    [PERCEPTUAL.candidate]: float32(candidate.pixels, dims),
    [PERCEPTUAL.content]: float32(content.pixels, dims),
    [PERCEPTUAL.style]: float32(w, [1, w.length]),
  });
  return (out[PERCEPTUAL.loss].data as Float32Array)[0];
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const rows: string[] = [];
const figureRows: GridRow[] = [];
const speedups: number[] = [];
const lossRatios: number[] = [];
for (const file of quick ? HELD_OUT_PHOTOS.slice(0, 1) : HELD_OUT_PHOTOS) {
  const content = await decodeImageFit(join(photosDir(), file), 3, SIDE);
  const cells: GridCell[] = [{ image: planarImage(content.pixels, 0, 3, ...content.size), caption: file }];
  for (const [k, s] of card.styles.entries()) {
    await stylizer.stylize(content, { style: k });
    const times: number[] = [];
    let fast: SourceImage | undefined;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      fast = await stylizer.stylize(content, { style: k });
      times.push(performance.now() - t0);
    }
    const fastMs = median(times);
    const t0 = performance.now();
    const slow = await style(lossNet, p, content, styles[k], {
      steps: OPTIMISATION_STEPS,
      lr: 0.02,
      tv: loss.tvWeight,
      contentLayer: loss.contentLayer,
      styleLayers: loss.styleLayers,
      contentWeight: loss.contentWeight,
      styleWeights: [loss.styleWeight],
    });
    const slowMs = performance.now() - t0;
    const optimised = { pixels: slow.pixels, size: content.size };
    const [lossFast, lossSlow, lossContent] = await Promise.all([
      perceptual(fast!, content, oneHot(k)),
      perceptual(optimised, content, oneHot(k)),
      perceptual(content, content, oneHot(k)),
    ]);
    speedups.push(slowMs / fastMs);
    lossRatios.push(lossFast / lossSlow);
    rows.push(
      `| ${file} | ${s.name} | ${fastMs.toFixed(0)} ms | ${(slowMs / 1000).toFixed(1)} s | ${(slowMs / fastMs).toFixed(0)}× | ${lossContent.toFixed(2)} | ${lossFast.toFixed(2)} | ${lossSlow.toFixed(2)} | ${(lossFast / lossSlow).toFixed(2)} |`,
    );
    cells.push({ image: planarImage(fast!.pixels, 0, 3, ...content.size), caption: s.name });
    console.error(`${file} × ${s.name} done`);
  }
  const half = card.styles.map((_, j) => (j < 2 ? 1 : 0));
  const mixed = await stylizer.stylize(content, { mix: half });
  cells.push({
    image: planarImage(mixed.pixels, 0, 3, ...content.size),
    caption: `50/50 ${card.styles[0].name} + ${card.styles[1].name}`,
  });
  figureRows.push({ label: file, cells });
}
figureRows.unshift({
  label: 'styles',
  cells: [
    undefined,
    ...styles.map((s, k) => ({ image: planarImage(s.pixels, 0, 3, ...s.size), caption: card.styles[k].source })),
  ],
});
writeFileSync(
  figurePath,
  await gridPng(figureRows, {
    cell: 200,
    cellHeight: 150,
    title: `${card.name}: one forward pass per image (${card.styles.length} styles in one network)`,
  }),
);
console.log(
  `| photo (${SIDE} px) | style | feed-forward | optimisation (${OPTIMISATION_STEPS} steps) | speed-up | loss of the photo itself | feed-forward loss | optimisation loss | ratio |`,
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log(
  `\nmedian speed-up ${median(speedups).toFixed(0)}×, median loss ratio ${median(lossRatios).toFixed(2)}; training: ${card.training?.seconds} s for ${card.training?.steps} steps`,
);
await Promise.all([stylizer.release(), lossNet.release(), judge.release()]);
