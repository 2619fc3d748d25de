/**
 * bench/attribution: time of every attribution method on the shipped models and on a
 * ResNet-18-shaped model at 224 px (random weights), one image, each as a ratio to one forward
 * pass measured in the same run; then occlusion and Score-CAM throughput (rows per second) as a
 * fraction of plain batched-forward throughput at the same batch size (goal ≥ 0.9), explaining one
 * image per call and, on the shipped models, 8 images per call.
 * Run: npm run bench:attribution [-- --threads N] [-- --quick] [-- --only methods|throughput] [-- --case NAME]
 */
import { Random } from '../src/maths/random.js';
import { Explainer, explain, METHOD_NAMES } from '../src/methods/attribution/index.js';
import { occlusionGeometry, windowOrigins } from '../src/methods/attribution/occlusion.js';
import type { Model } from '../src/onnx/model.js';
import { float32, type Tensor } from '../src/onnx/tensor.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';
import { resnet } from '../src/zoo/families.js';
import { shippedCase } from './cases.js';
import { interleavedRatios, medianMs } from './timing.js';

const threadsArg = process.argv.indexOf('--threads');
const threads = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 2;
const quick = process.argv.includes('--quick');
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined;
if (only !== undefined && only !== 'methods' && only !== 'throughput')
  throw new Error(`--only takes methods or throughput, got "${only}"`);
const caseArg = process.argv.indexOf('--case');
const onlyCase = caseArg > 0 ? process.argv[caseArg + 1] : undefined;
const BATCH = 32;
const BATCH_IMAGES = 8;

const shipped = (name: string) => {
  const c = shippedCase(name);
  return { ...c, shape: [1, ...c.sample] };
};
const cases: { name: string; model: Model; logits?: string; features?: string; shape: number[] }[] = [
  shipped('digits-gap'),
  shipped('shapes-gap'),
  shipped('shapes-vgg'),
  // SCOUTER's maps come from its forward graph: its row shows one forward pass.
  shipped('shapes-scouter+'),
  { name: 'resnet18-224', model: resnet({ classes: 1000 }), shape: [1, 3, 224, 224] },
];

const rows: string[][] = [];
const throughput: string[][] = [];
if (onlyCase !== undefined && !cases.some((c) => c.name === onlyCase))
  throw new Error(`--case "${onlyCase}" is not one of ${cases.map((c) => c.name).join(', ')}`);
for (const c of cases.filter((k) => onlyCase === undefined || k.name === onlyCase)) {
  const m = new ConvlensModel(c.model, nodeBackend(), { threads });
  const rng = new Random(1);
  const x = float32(rng.normals(c.shape.reduce((a, b) => a * b, 1)), c.shape);
  const big = c.name.startsWith('resnet');
  const forward =
    only === 'throughput'
      ? 0
      : await medianMs(() => m.run(x, { outputs: [c.logits ?? m.outputNames[0]] }), big ? 10 : 30);
  const row = [c.name, forward.toFixed(1)];
  for (const method of only === 'throughput' ? [] : METHOD_NAMES) {
    const run = () =>
      explain(new Explainer(m, x, { logits: c.logits, features: c.features, batch: BATCH }), {
        methods: [method],
      });
    if (
      (method === 'cam' || method === 'scouter') &&
      (await run()
        .then(() => false)
        .catch(() => true))
    ) {
      row.push('n/a');
      continue;
    }
    const heavy = ['smoothgrad', 'ig', 'occlusion', 'score-cam'].includes(method);
    const t = await medianMs(run, big && heavy ? 1 : quick ? 2 : 5);
    row.push(`${(t / forward).toFixed(1)}×`);
  }
  if (only !== 'throughput') rows.push(row);
  // Throughput: rows/s of occlusion and Score-CAM against forward passes of a batch of BATCH, for
  // one image and for a batch of BATCH_IMAGES (the throughput case: fixed costs such as the
  // prediction pass are shared); ResNet-18's single image already has hundreds of rows.
  const batch: Tensor = float32(rng.normals(BATCH * x.data.length), [BATCH, ...c.shape.slice(1)]);
  const [, , h, w] = c.shape;
  const g = occlusionGeometry(h, w, { window: 0, stride: 0, baseline: 0 });
  const occlusionRows =
    1 + windowOrigins(h, g.window, g.stride).length * windowOrigins(w, g.window, g.stride).length;
  const layer = await new Explainer(m, x, { logits: c.logits, features: c.features }).resolveLayer();
  const channels = (await new Explainer(m, x).sampleDims(layer))[0];
  for (const n of only === 'methods' ? [] : big ? [1] : [1, BATCH_IMAGES]) {
    const images = n === 1 ? x : float32(rng.normals(n * x.data.length), [n, ...c.shape.slice(1)]);
    const method = (name: string) => () =>
      explain(new Explainer(m, images, { logits: c.logits, features: c.features, batch: BATCH }), {
        methods: [name],
      });
    // Score-CAM runs one masked row per channel that is not zero everywhere on an image.
    const maskedRows = (await method('score-cam')()).maps[0].diagnostics?.maskedRows ?? [];
    const scoreRows = maskedRows.reduce((a, b) => a + b, 0);
    // Each method is paired with its own forward run, interleaved (forward, method, forward, …),
    // and each fraction is the median of ratios within a round, so drifts in machine load cancel.
    const batchForward = () => m.run(batch, { outputs: [c.logits ?? m.outputNames[0]] });
    const reps = big ? 5 : n === 1 ? 31 : 21;
    const {
      medians: [batchMs, occ],
      ratios: [, occRatio],
    } = await interleavedRatios([batchForward, method('occlusion')], reps);
    const {
      medians: [, score],
      ratios: [, scoreRatio],
    } = await interleavedRatios([batchForward, method('score-cam')], reps);
    const forwardRate = BATCH / (batchMs / 1000);
    throughput.push([
      c.name,
      `${n}`,
      forwardRate.toFixed(0),
      `${n * occlusionRows}`,
      ((n * occlusionRows) / (occ / 1000)).toFixed(0),
      ((occRatio * n * occlusionRows) / BATCH).toFixed(2),
      `${scoreRows} of ${n * channels}`,
      (scoreRows / (score / 1000)).toFixed(0),
      ((scoreRatio * scoreRows) / BATCH).toFixed(2),
    ]);
  }
  await m.release();
  console.error(`${c.name} done`);
}

function table(header: string[], body: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)) + 2);
  const line = (r: string[]) => r.map((v, i) => (v ?? '').padEnd(widths[i])).join('');
  console.log(line(header));
  for (const r of body) console.log(line(r));
}

if (only !== 'throughput') {
  console.log(
    `onnxruntime-node, ${threads} threads, one image, batch ${BATCH} for batched methods; time per method as a multiple of one forward pass (median)`,
  );
  table(['model', 'forward ms', ...METHOD_NAMES], rows);
}
if (only !== 'methods') {
  console.log(
    `\nthroughput in images/s: batched forward (batch ${BATCH}) vs occlusion and Score-CAM rows, explaining 1 or ${BATCH_IMAGES} images per call; fraction = median over interleaved (forward, method) rounds of the within-round ratio (goal ≥ 0.9)`,
  );
  table(
    [
      'model',
      'images',
      'forward/s',
      'occl. rows',
      'occl./s',
      'fraction',
      'score-cam rows',
      'score-cam/s',
      'fraction',
    ],
    throughput,
  );
}
