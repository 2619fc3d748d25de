/**
 * bench/gradients: cost of gradients relative to the forward pass, on a ResNet-18-shaped and a
 * MobileNetV2-shaped model (random weights, torchvision layouts) at 224 px, batch 1 and 8.
 * Prints (forward + input gradient) / forward — target ≤ 2.2 — and (forward + gradient at the last
 * feature map, the Grad-CAM case) / forward — target ≤ 1.4. Run: npm run bench:gradients [-- --threads N]
 */
import { classSeed } from '../src/autodiff/seeds.js';
import { Random } from '../src/maths/random.js';
import { float32 } from '../src/onnx/tensor.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';
import { mobilenetV2, resnet } from '../src/zoo/families.js';
import { medianMs } from './timing.js';

const threadsArg = process.argv.indexOf('--threads');
const threads = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 2;
const batches = process.argv.includes('--quick') ? [1] : [1, 8];

const rows: string[][] = [];
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
    const reps = n === 1 ? 15 : 5;
    // Baseline: the forward pass of the same static graph the gradient graph is built from.
    const forward = new ConvlensModel(s.model, nodeBackend(), { threads });
    const fwd = await medianMs(() => forward.run(x), reps, 2);
    await forward.release();
    const input = await medianMs(() => m.gradients(x, { objective, wrt: ['input'] }), reps, 2);
    const layerOnly = await medianMs(() => m.gradients(x, { objective, wrt: [layer] }), reps, 2);
    rows.push([
      name,
      String(n),
      fwd.toFixed(1),
      input.toFixed(1),
      (input / fwd).toFixed(2),
      layerOnly.toFixed(1),
      (layerOnly / fwd).toFixed(2),
    ]);
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
console.log(`onnxruntime-node, ${threads} threads, 224×224, median of repeated runs`);
console.log(line(header));
for (const r of rows) console.log(line(r));
