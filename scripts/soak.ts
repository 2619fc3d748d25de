/**
 * The soak (`npm run soak`): 1,000 explanations in one process through the library, every method
 * in turn on the three shipped models, each on a new test image; prints resident memory, V8 heap
 * and open onnxruntime sessions every 100, then the growth after warm-up (goal < 5%).
 * Run: npm run soak [-- --count N]
 */
import { join } from 'node:path';
import { modelsDir } from '../src/cli/common.js';
import { readCard } from '../src/data/card.js';
import { loadDatasetSplits } from '../src/data/node.js';
import { normalizeInto } from '../src/data/preprocess.js';
import { Explainer, explain, METHOD_NAMES } from '../src/methods/attribution/index.js';
import { readModelFile } from '../src/node.js';
import { float32 } from '../src/onnx/tensor.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';

const countArg = process.argv.indexOf('--count');
const total = countArg > 0 ? Number(process.argv[countArg + 1]) : 1000;
const models = await Promise.all(
  ['digits-gap', 'shapes-gap', 'shapes-vgg'].map(async (name) => {
    const model = readModelFile(join(modelsDir(), `${name}.onnx`));
    const card = readCard(model)!;
    const test = (await loadDatasetSplits(card.dataset!, card.preprocessing)).test;
    return { name, card, test, m: new ConvlensModel(model, nodeBackend(), { threads: 2 }) };
  }),
);
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const rows: { done: number; rss: number; heap: number; sessions: number }[] = [];
const started = performance.now();
for (let i = 0; i < total; i++) {
  const { card, test, m, name } = models[i % models.length];
  const p = card.preprocessing;
  const x = new Float32Array(p.channels * p.size[0] * p.size[1]);
  normalizeInto(test.get(i % test.length).image, test.channels, p, x, 0);
  const methods = METHOD_NAMES.filter((m) => m !== 'scouter');
  let method = methods[Math.floor(i / models.length) % methods.length];
  if (method === 'cam' && name === 'shapes-vgg') method = 'gradcam';
  const explainer = new Explainer(m, float32(x, [1, p.channels, ...p.size]), {
    logits: card.tensors?.logits,
    features: card.tensors?.features,
    classes: card.classes,
  });
  await explain(explainer, { methods: [method] });
  if ((i + 1) % 100 === 0) {
    globalThis.gc?.();
    const u = process.memoryUsage();
    const sessions = models.reduce((a, x) => a + x.m.sessionCount, 0);
    rows.push({ done: i + 1, rss: u.rss, heap: u.heapUsed, sessions });
    console.log(
      `${String(i + 1).padStart(5)} explanations  rss ${mib(u.rss)} MiB  heap ${mib(u.heapUsed)} MiB  sessions ${sessions}  ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
  }
}
const warm = rows[Math.min(1, rows.length - 1)];
const last = rows[rows.length - 1];
console.log(
  `rss after warm-up (${warm.done} explanations) ${mib(warm.rss)} MiB → ${mib(last.rss)} MiB at ${last.done}: ${(100 * (last.rss / warm.rss - 1)).toFixed(1)}% (goal < 5%)`,
);
for (const x of models) await x.m.release();
