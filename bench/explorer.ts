/**
 * bench/explorer: the explorer in headless Chromium, driven through its page.
 * - First render: from spawning `convlens serve` to the app painted, and to the default model loaded.
 * - Grad-CAM on shapes-gap: ms per image in the page after warm-up (goal < 100 ms).
 * - Saliency on a ResNet-18-shaped model at 224 px (random weights): the page (onnxruntime-web)
 *   against Node (onnxruntime-node), same model and input, paired rounds alternating which runs
 *   first with a 0.3 s pause between; the median of browser / Node (goal ≤ 2).
 * Needs the built package (`npm run build`, which `npm install` runs) and Debian's chromium.
 * Run: npm run bench:explorer [-- --rounds N]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { Random } from '../src/maths/random.js';
import { Explainer, explain } from '../src/methods/attribution/index.js';
import { encodeModel } from '../src/onnx/model.js';
import { float32 } from '../src/onnx/tensor.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';
import { resnet } from '../src/zoo/families.js';

const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 9;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'convlens-bench-explorer-'));
const model = resnet({ classes: 1000 });
const resnetFile = join(dir, 'resnet18-224.onnx');
writeFileSync(resnetFile, encodeModel(model).bytes);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const page = await browser.newPage();
// tsx keeps function names with a helper the page does not have.
await page.addInitScript({ content: 'window.__name = (f) => f;' });
await page.goto('about:blank');
await pause(2000); // the browser's own start-up settles before the clock starts

// First render, from the serve process's start.
const started = performance.now();
const serve = spawn(process.execPath, ['bin/convlens.js', 'serve', '--port', '0', '--model', resnetFile], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
process.on('exit', () => serve.kill('SIGINT'));
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  serve.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    const m = /convlens explorer at (\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
  serve.once('exit', (code) => reject(new Error(`convlens serve exited with ${code}`)));
});
const listening = performance.now() - started;
await page.goto(url);
await page.waitForSelector('h1');
const painted = performance.now() - started;
await page.waitForFunction(() => window.convlensExplorer?.model?.name === 'shapes-gap', undefined, {
  timeout: 60_000,
});
const modelReady = performance.now() - started;

// Grad-CAM on shapes-gap, per image, in the page.
const gradcam = await page.evaluate(async () => {
  const request = window.convlensExplorer!.request!;
  let seed = 7;
  const pixels = Float32Array.from({ length: 3 * 64 * 64 }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  });
  const once = () =>
    request({ kind: 'explain', pixels, methods: ['gradcam'], target: 'top', params: {}, look: {} }, () => {});
  for (let i = 0; i < 5; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await once();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[15];
});

// Saliency at 224 px: page against Node, paired rounds.
const rng = new Random(3);
const pixels = Float32Array.from({ length: 3 * 224 * 224 }, () => rng.next());
const runtime = await page.evaluate(async () => {
  const bytes = await (await fetch('/models/resnet18-224.onnx')).arrayBuffer();
  const r = await window.convlensExplorer!.request!({
    kind: 'load',
    name: 'resnet18-224',
    bytes,
    size: [224, 224],
  });
  return r.kind === 'loaded' ? r.model.runtime : 'not loaded';
});
const inBrowser = () =>
  page.evaluate(async (values) => {
    const request = window.convlensExplorer!.request!;
    const t = performance.now();
    await request(
      {
        kind: 'explain',
        pixels: Float32Array.from(values),
        methods: ['saliency'],
        target: 'top',
        params: {},
        look: {},
      },
      () => {},
    );
    return performance.now() - t;
  }, Array.from(pixels));
const m = new ConvlensModel(model, nodeBackend());
const inNode = async () => {
  const t = performance.now();
  await explain(new Explainer(m, float32(pixels, [1, 3, 224, 224])), {
    methods: ['saliency'],
    target: { kind: 'top' },
  });
  return performance.now() - t;
};
await inBrowser();
await inNode();
const ratios: number[] = [];
const browserMs: number[] = [];
const nodeMs: number[] = [];
for (let r = 0; r < rounds; r++) {
  let b: number;
  let n: number;
  if (r % 2 === 0) {
    b = await inBrowser();
    await pause(300);
    n = await inNode();
  } else {
    n = await inNode();
    await pause(300);
    b = await inBrowser();
  }
  await pause(300);
  browserMs.push(b);
  nodeMs.push(n);
  ratios.push(b / n);
}
await m.release();
await browser.close();
serve.kill('SIGINT');
rmSync(dir, { recursive: true, force: true });

const rows = [
  ['first render: serve listening', `${listening.toFixed(0)} ms`, ''],
  ['first render: app painted', `${painted.toFixed(0)} ms`, 'goal < 2000 ms'],
  ['first render: shapes-gap loaded', `${modelReady.toFixed(0)} ms`, ''],
  ['Grad-CAM, shapes-gap, per image', `${gradcam.toFixed(1)} ms`, 'goal < 100 ms'],
  [
    'saliency, ResNet-18 shape, 224 px',
    `${median(browserMs).toFixed(0)} ms page, ${median(nodeMs).toFixed(0)} ms Node`,
    `page / Node ${median(ratios).toFixed(2)} (goal ≤ 2)`,
  ],
];
console.log(`page runtime: ${runtime}; ${rounds} paired rounds\n`);
console.log('| measure | time | ratio / goal |\n|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
