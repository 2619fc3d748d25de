/**
 * bench/faithfulness: throughput of the faithfulness metrics' perturbed rows (deletion, insertion,
 * average drop, ROAD with its imputation) as a fraction of plain batched-forward throughput at the
 * same batch size (goal ≥ 0.9, as for occlusion), each metric interleaved with the forward pass so
 * machine drift cancels; then the time of one cascading-randomisation stage per method.
 * Run: npm run bench:faithfulness [-- --threads N] [-- --quick]
 */
import { Random } from '../src/maths/random.js';
import { Explainer } from '../src/methods/attribution/index.js';
import { confidenceChange } from '../src/methods/evaluation/confidence.js';
import { perturbationCurves } from '../src/methods/evaluation/deletionInsertion.js';
import { relevancePlanes } from '../src/methods/evaluation/planes.js';
import { road } from '../src/methods/evaluation/road.js';
import type { Model } from '../src/onnx/model.js';
import { float32 } from '../src/onnx/tensor.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';
import { resnet } from '../src/zoo/families.js';
import { shippedCase } from './cases.js';
import { interleavedRatios } from './timing.js';

const threadsArg = process.argv.indexOf('--threads');
const threads = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 2;
const quick = process.argv.includes('--quick');
const BATCH = 32;

const shipped = (name: string) => {
  const c = shippedCase(name);
  return { ...c, shape: c.sample, images: 32 };
};
const cases: { name: string; model: Model; logits?: string; shape: number[]; images: number }[] = [
  shipped('digits-gap'),
  shipped('shapes-gap'),
  { name: 'resnet18-224', model: resnet({ classes: 1000 }), shape: [3, 224, 224], images: 1 },
];

const table: string[][] = [];
for (const c of cases) {
  const m = new ConvlensModel(c.model, nodeBackend(), { threads });
  const rng = new Random(1);
  const per = c.shape.reduce((a, b) => a * b, 1);
  const [, h, w] = c.shape;
  const images = float32(rng.normals(c.images * per), [c.images, ...c.shape]);
  const batch = float32(rng.normals(BATCH * per), [BATCH, ...c.shape]);
  const explainer = new Explainer(m, images, { logits: c.logits, batch: BATCH });
  const target = await explainer.bind({ kind: 'top' });
  const planes = relevancePlanes(rng.normals(c.images * h * w), [c.images, 1, h, w], h, w);
  const forward = () => m.run(batch, { outputs: [c.logits ?? m.outputNames[0]] });
  const big = c.name.startsWith('resnet');
  const step = 0.02;
  const metrics: [string, number, () => Promise<unknown>][] = [
    ['deletion', c.images * 51, () => perturbationCurves(explainer, target, planes, 'deletion', { step })],
    ['insertion', c.images * 51, () => perturbationCurves(explainer, target, planes, 'insertion', { step })],
    ['average drop', c.images, () => confidenceChange(explainer, target, planes)],
    ['ROAD (9 fractions × 2)', c.images * 18, () => road(explainer, target, planes)],
  ];
  for (const [name, rows, run] of metrics) {
    const reps = quick || big ? 3 : 11;
    const {
      medians: [forwardMs, metricMs],
      ratios: [, ratio],
    } = await interleavedRatios([forward, run], reps);
    table.push([
      c.name,
      name,
      `${rows}`,
      (BATCH / (forwardMs / 1000)).toFixed(0),
      (rows / (metricMs / 1000)).toFixed(0),
      ((ratio * rows) / BATCH).toFixed(2),
    ]);
  }
  await m.release();
  console.error(`${c.name} done`);
}

const header = ['model', 'metric', 'rows', 'forward rows/s', 'metric rows/s', 'fraction'];
const widths = header.map((hd, i) => Math.max(hd.length, ...table.map((r) => r[i].length)) + 2);
const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i])).join('');
console.log(
  `onnxruntime-node, ${threads} threads, batch ${BATCH}; rows of 32 images per call (1 at 224 px); fraction = median over interleaved (forward, metric) rounds of the within-round ratio × rows / batch (goal ≥ 0.9)`,
);
console.log(line(header));
for (const r of table) console.log(line(r));
