/**
 * bench/synthesis: the cost of one optimisation step of the synthesis loop (parameterisation,
 * transforms, regularisers, optimiser, plus the model's forward + backward) as a ratio to one
 * forward + backward pass of the same objective graph alone. The step time is the difference
 * between runs of S₂ and S₁ steps divided by S₂ − S₁, so session set-up is not counted.
 * Then stylise throughput: the shipped style network on a 256 px image (and a 255 px one, which
 * pads and crops) through `Stylizer`, against one plain onnxruntime run of the same network.
 * Run: npm run bench:synthesis [-- --quick] [-- --stylise-only]
 */
import { join } from 'node:path';
import { modelsDir } from '../src/cli/common.js';
import { readCard } from '../src/data/card.js';
import type { Preprocessing } from '../src/data/preprocess.js';
import { Random } from '../src/maths/random.js';
import { type ObjectiveTerm, parseObjective } from '../src/methods/synthesis/objective.js';
import { randomFeatureNetwork } from '../src/methods/synthesis/randomFeatures.js';
import { Stylizer } from '../src/methods/synthesis/stylize.js';
import {
  mergeTerms,
  objectiveRunner,
  type SynthesisOptions,
  synthesize,
  toModelInput,
} from '../src/methods/synthesis/synthesize.js';
import { gramTerms } from '../src/methods/synthesis/texture.js';
import { readModelFile } from '../src/node.js';
import { encodeModel } from '../src/onnx/model.js';
import { float32 } from '../src/onnx/tensor.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';
import { resnet } from '../src/zoo/families.js';
import { interleavedRatios, medianMs } from './timing.js';

const quick = process.argv.includes('--quick');
const styliseOnly = process.argv.includes('--stylise-only');
const shipped = (name: string) => {
  const model = readModelFile(join(modelsDir(), `${name}.onnx`));
  return { model: new ConvlensModel(model, nodeBackend()), p: readCard(model)!.preprocessing };
};
const transforms: Partial<SynthesisOptions> = {
  param: 'fft',
  jitter: 2,
  transforms: { pad: 4, scale: [0.95, 1.05], rotate: 5 },
};

interface Case {
  name: string;
  model: ConvlensModel;
  p: Preprocessing;
  terms: () => Promise<ObjectiveTerm[]>;
  size: [number, number];
  options: Partial<SynthesisOptions>;
}

const digits = shipped('digits-gap');
const shapes = shipped('shapes-gap');
const rf = randomFeatureNetwork();
const random = { model: new ConvlensModel(rf.model, nodeBackend()), p: rf.preprocessing };
const brick = {
  pixels: new Random(3).normals(3 * 128 * 128, 0.2).map((v) => 0.5 + v),
  size: [128, 128] as const,
};
const res = {
  model: new ConvlensModel(resnet({ classes: 1000 }), nodeBackend()),
  p: { size: [224, 224], channels: 3, resize: 'exact', mean: [0.5], std: [0.25] } as Preprocessing,
};
const resLayer = (await res.model.layers([1, 3, 224, 224])).filter((l) => l.opType === 'Relu').at(-1)!.tensor;

const cases: Case[] = [
  {
    name: 'visualize digits-gap, pixel + jitter + L2/TV + blur',
    ...digits,
    terms: async () => parseObjective('logit:3', 'logits'),
    size: [28, 28],
    options: { jitter: 1, l2: 0.02, tv: 0.5, blurEvery: 4 },
  },
  {
    name: 'visualize shapes-gap, fft + decorrelate + pad/scale/rotate',
    ...shapes,
    terms: async () => parseObjective('logit:2', 'logits'),
    size: [64, 64],
    options: transforms,
  },
  {
    name: 'dream shapes-gap relu2 at 170×256 (normalised steps)',
    ...shapes,
    terms: async () => parseObjective('dream:relu2', 'logits'),
    size: [170, 256],
    options: { optimizer: 'normalized', jitter: 4, lr: 0.01 },
  },
  {
    name: 'texture random features (4 Grams) at 128',
    ...random,
    terms: () => gramTerms(random.model, random.p, brick, rf.layers),
    size: [128, 128],
    options: {},
  },
  {
    name: 'texture shapes-gap (4 Grams) at 128',
    ...shapes,
    terms: () => gramTerms(shapes.model, shapes.p, brick, ['relu1', 'relu2', 'relu3', 'features']),
    size: [128, 128],
    options: {},
  },
  {
    name: 'visualize resnet18-shaped channel at 224, fft + transforms',
    ...res,
    terms: async () => parseObjective(`channel:${resLayer}:7`, 'x'),
    size: [224, 224],
    options: transforms,
  },
];

const rows: string[][] = [];
for (const c of styliseOnly ? [] : quick ? cases.slice(0, 3) : cases) {
  const terms = await c.terms();
  const [h, w] = c.size;
  const ch = c.p.channels;
  // Baseline: one forward + backward of the same objective graph synthesize runs.
  const runner = await objectiveRunner(c.model, c.p, terms, c.size, 1);
  const x = float32(
    toModelInput(
      new Random(1).normals(ch * h * w, 0.1).map((v) => 0.5 + v),
      c.p,
      c.size,
    ),
    [1, ch, h, w],
  );
  const objective = mergeTerms(runner.bound);
  const outputs = [...new Set(runner.bound.map((b) => b.tensor))];
  const pass = await medianMs(() => runner.model.gradients(x, { objective, outputs }), quick ? 5 : 15, 2);
  await runner.model.release();
  const [s1, s2] = quick ? [2, 12] : [5, 45];
  const run = (steps: number) =>
    synthesize(c.model, c.p, terms, { steps, size: c.size, seed: 0, ...c.options });
  const t1 = await medianMs(() => run(s1), quick ? 1 : 3, 1);
  const t2 = await medianMs(() => run(s2), quick ? 1 : 3, 0);
  const step = (t2 - t1) / (s2 - s1);
  rows.push([c.name, pass.toFixed(2), step.toFixed(2), (step / pass).toFixed(2)]);
  console.error(`${c.name} done`);
}
const header = ['case', 'forward+backward ms', 'step ms', 'step / pass'];
const widths = header.map((hd, k) => Math.max(hd.length, ...rows.map((r) => r[k].length)));
if (!styliseOnly)
  for (const r of [header, ...rows])
    console.log(r.map((v, k) => (k === 0 ? v.padEnd(widths[k]) : v.padStart(widths[k]))).join('  '));
await Promise.all([digits, shapes, random, res].map((m) => m.model.release()));

// Stylise throughput against one plain forward pass of the same network.
const styleNet = readModelFile(join(modelsDir(), 'photo-styles.onnx'));
const stylizer = await Stylizer.open(styleNet, nodeBackend());
const plain = await nodeBackend().createSession(encodeModel(styleNet).bytes);
const styleRows: string[][] = [];
for (const side of [256, 255]) {
  const image = {
    pixels: new Random(side).normals(3 * side * side, 0.2).map((v) => 0.5 + v),
    size: [side, side] as [number, number],
  };
  const padded = Math.ceil(side / 4) * 4;
  const feeds = {
    image: float32(new Float32Array(3 * padded * padded).fill(0.5), [1, 3, padded, padded]),
    style: float32([1, 0, 0], [1, 3]),
  };
  const { medians, ratios } = await interleavedRatios(
    [() => plain.run(feeds, ['stylized']), () => stylizer.stylize(image, { style: 0 })],
    quick ? 5 : 20,
    2,
  );
  styleRows.push([
    `stylise ${side}×${side}`,
    medians[0].toFixed(1),
    medians[1].toFixed(1),
    (1000 / medians[1]).toFixed(1),
    (1 / ratios[1]).toFixed(2),
  ]);
}
await Promise.all([stylizer.release(), plain.release()]);
const styleHeader = ['case', 'forward ms', 'stylise ms', 'images/s', 'stylise / forward'];
const styleWidths = styleHeader.map((hd, k) => Math.max(hd.length, ...styleRows.map((r) => r[k].length)));
console.log('');
for (const r of [styleHeader, ...styleRows])
  console.log(r.map((v, k) => (k === 0 ? v.padEnd(styleWidths[k]) : v.padStart(styleWidths[k]))).join('  '));
