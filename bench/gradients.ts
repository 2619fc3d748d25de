/**
 * bench/gradients: cost of gradients relative to the forward pass, on a ResNet-18-shaped and a
 * MobileNetV2-shaped model (random weights, torchvision layouts) at 224 px, batch 1 and 8.
 * Prints (forward + input gradient) / forward — target ≤ 2.2 — and (forward + gradient at the last
 * feature map, the Grad-CAM case) / forward — target ≤ 1.4. Then, at batch 1, where the input-gradient
 * graph's time goes by onnxruntime's kernel profile, and the floor its convolutions alone set:
 * (forward kernels + backward convolution kernels) / forward kernels.
 * Run: npm run bench:gradients [-- --threads N] [-- --quick]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildGradientGraph, seedName } from '../src/autodiff/engine.js';
import { classSeed } from '../src/autodiff/seeds.js';
import { Random } from '../src/maths/random.js';
import type { Model } from '../src/onnx/model.js';
import { encodeModel } from '../src/onnx/model.js';
import { float32 } from '../src/onnx/tensor.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';
import { mobilenetV2, resnet } from '../src/zoo/families.js';
import { interleavedRatios } from './timing.js';

const threadsArg = process.argv.indexOf('--threads');
const threads = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 2;
const batches = process.argv.includes('--quick') ? [1] : [1, 8];

/** Mean kernel time per run of each graph node, from onnxruntime's profile of `runs` runs. */
async function kernelProfile(model: Model, feeds: Record<string, ort.Tensor>, runs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'convlens-bench-'));
  const session = await ort.InferenceSession.create(encodeModel(model).bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    enableProfiling: true,
    profileFilePrefix: join(dir, 'profile'),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  for (let i = 0; i < runs; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = join(dir, readdirSync(dir)[0]);
  const events = JSON.parse(readFileSync(file, 'utf8')) as {
    cat: string;
    name: string;
    dur: number;
    args: { op_name?: string };
  }[];
  rmSync(dir, { recursive: true });
  const ms = new Map<string, { op: string; ms: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    // onnxruntime renames nodes it moves to its blocked layout (…_nchwc) and adds reorders.
    const name = e.name.replace(/_kernel_time$/, '').replace(/_nchwc$/, '');
    const entry = ms.get(name) ?? { op: e.args.op_name ?? '?', ms: 0 };
    entry.ms += e.dur / 1000 / runs;
    ms.set(name, entry);
  }
  return ms;
}

/** Kernel time of the input-gradient graph by kind, against the forward graph's. */
async function profileRow(
  name: string,
  forwardModel: Model,
  gradient: Model,
  feeds: Record<string, ort.Tensor>,
) {
  const runs = 20;
  const forward = [...(await kernelProfile(forwardModel, { input: feeds.input }, runs)).values()];
  const fwd = forward.reduce((a, e) => a + e.ms, 0);
  const nodes = new Map(gradient.graph.nodes.map((node) => [node.name, node]));
  const kinds = { forward: 0, convolutions: 0, pooling: 0, elementwise: 0, reorders: 0 };
  for (const [node, e] of await kernelProfile(gradient, feeds, runs)) {
    const source = nodes.get(node);
    if (!source) kinds.reorders += e.ms;
    else if (!node.startsWith('grad/')) kinds.forward += e.ms;
    else if (e.op === 'Conv' || e.op === 'ConvTranspose')
      // Pool backward gathers and scatters windows with one-hot kernels.
      kinds[source.inputs[1]?.includes('onehot') ? 'pooling' : 'convolutions'] += e.ms;
    // In these two models only the MaxPool rule emits ArgMax, Equal, Cast, Pad and Slice.
    else if (['ArgMax', 'Equal', 'Cast', 'Pad', 'Slice'].includes(e.op)) kinds.pooling += e.ms;
    else kinds.elementwise += e.ms;
  }
  const total = Object.values(kinds).reduce((a, b) => a + b, 0);
  return [
    name,
    fwd.toFixed(1),
    total.toFixed(1),
    kinds.forward.toFixed(1),
    kinds.convolutions.toFixed(1),
    kinds.pooling.toFixed(1),
    kinds.elementwise.toFixed(1),
    kinds.reorders.toFixed(1),
    ((fwd + kinds.convolutions) / fwd).toFixed(2),
  ];
}

const rows: string[][] = [];
const profiles: string[][] = [];
for (const [name, model] of [
  ['resnet18', resnet({ classes: 1000 })],
  ['mobilenetv2', mobilenetV2({ classes: 1000 })],
] as const) {
  const m = new ConvlensModel(model, nodeBackend(), { threads });
  for (const n of batches) {
    const shape = [n, 3, 224, 224];
    const x = float32(new Random(1).normals(n * 3 * 224 * 224), shape);
    const s = await m.prepare({ input: shape });
    const logits = model.graph.outputs[0].name;
    const gap = s.model.graph.nodes.find((node) => node.opType === 'GlobalAveragePool')!;
    const layer = gap.inputs[0];
    const objective = [{ tensor: logits, weights: classSeed([n, 1000], 3) }];
    const reps = n === 1 ? 21 : 7;
    // Baseline: the forward pass of the same static graph the gradient graph is built from.
    const forward = new ConvlensModel(s.model, nodeBackend(), { threads });
    // Interleaved (forward, input, layer, forward, …); ratios are medians of within-round ratios.
    const {
      medians: [fwd, input, layerOnly],
      ratios: [, inputRatio, layerRatio],
    } = await interleavedRatios(
      [
        () => forward.run(x),
        () => m.gradients(x, { objective, wrt: ['input'] }),
        () => m.gradients(x, { objective, wrt: [layer] }),
      ],
      reps,
      2,
    );
    await forward.release();
    rows.push([
      name,
      String(n),
      fwd.toFixed(1),
      input.toFixed(1),
      (1 / inputRatio).toFixed(2),
      layerOnly.toFixed(1),
      (1 / layerRatio).toFixed(2),
    ]);
    if (n === 1) {
      const gradient = buildGradientGraph(s, {
        objective: [{ tensor: logits, weights: 'feed', power: 1 }],
        wrt: ['input'],
        outputs: [logits],
      });
      const feeds = {
        input: new ort.Tensor('float32', x.data as Float32Array, shape),
        [seedName(logits)]: new ort.Tensor('float32', objective[0].weights.data as Float32Array, [n, 1000]),
      };
      profiles.push(await profileRow(name, s.model, gradient, feeds));
    }
    console.error(`${name} batch ${n} done`);
  }
  await m.release();
}
const header = [
  'model',
  'batch',
  'forward ms',
  '+input grad ms',
  'ratio (≤2.2)',
  '+layer grad ms',
  'ratio (≤1.4)',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('');
console.log(
  `onnxruntime-node, ${threads} threads, 224×224, medians of interleaved runs; ratios are medians of within-round ratios`,
);
console.log(line(header));
for (const r of rows) console.log(line(r));
const profileHeader = [
  'model',
  'forward',
  'gradient graph',
  'its forward',
  'backward convs',
  'pool backward',
  'masks, sums, other',
  'reorders',
  'conv floor',
];
const profileWidths = profileHeader.map(
  (h, i) => Math.max(h.length, ...profiles.map((r) => r[i].length)) + 2,
);
console.log(
  '\nbatch 1, kernel ms per run from onnxruntime profiles; conv floor = (forward + backward convs) / forward',
);
for (const r of [profileHeader, ...profiles])
  console.log(r.map((c, i) => c.padEnd(profileWidths[i])).join(''));
