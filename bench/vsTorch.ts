/**
 * convlens against plain PyTorch autograd on the same torchvision networks (seeded random weights,
 * exported to ONNX), the same 224 px input and the same thread count. Paired rounds: a long-lived
 * Python worker and this process run each method back to back, alternating which goes first, with
 * a 0.3 s pause between (idle threads of one library slow the other); the figure is the median
 * over rounds of convlens / PyTorch. Beside it, each method's time over its floor: the plain
 * forward and forward+backward graphs it cannot avoid, timed here in the same run, each call after
 * the same pause.
 *
 * Optional (needs Debian's python3-torch and python3-torchvision): npm run bench:vs-torch
 *   [-- --nets resnet18,resnet50,mobilenet_v2] [--batches 1,8] [--rounds 5] [--threads 2] [--methods a,b]
 *   [--spinning auto|within-run|always|never] [--full]   (how onnxruntime's intra-op threads wait)
 * Without --full, occlusion, IG and SmoothGrad run at batch 1 only.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { classSeed } from '../src/autodiff/seeds.js';
import { Explainer, explain } from '../src/methods/attribution/index.js';
import { readModelFile } from '../src/node.js';
import { float32, type Tensor } from '../src/onnx/tensor.js';
import type { Spinning } from '../src/runtime/backend.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';

const { values: args } = parseArgs({
  options: {
    nets: { type: 'string', default: 'resnet18,resnet50,mobilenet_v2' },
    batches: { type: 'string', default: '1,8' },
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    full: { type: 'boolean', default: false },
    spinning: { type: 'string', default: 'auto' },
    methods: { type: 'string' },
  },
});
const threads = Number(args.threads);
const rounds = Number(args.rounds);
const ROWS = 32;

/** The method's convlens parameters (the PyTorch side uses the same). */
const METHODS: Record<string, object> = {
  forward: {},
  saliency: {},
  'guided-backprop': {},
  deconvnet: {},
  gradcam: {},
  'gradcam++': {},
  layercam: {},
  'guided-gradcam': {},
  'score-cam': {},
  ig: { steps: 50, baseline: 'zero' },
  smoothgrad: { samples: 25, sigma: 0.15, base: 'saliency' },
  occlusion: { window: 15, stride: 8, baseline: 0 },
};
const SLOW = new Set(['ig', 'smoothgrad', 'occlusion', 'score-cam']);

class PythonWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterableIterator<string>;
  constructor() {
    this.child = spawn('/usr/bin/python3', ['scripts/bench/vs_torch.py', String(threads)]);
    this.child.stderr.on('data', (d) => process.stderr.write(d));
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }
  async ask(request: object): Promise<{ ms?: number }> {
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error('the PyTorch worker exited (is python3-torch installed for /usr/bin/python3?)');
    return JSON.parse(value);
  }
  close() {
    this.child.stdin.end();
  }
}

const pause = () => new Promise((r) => setTimeout(r, 300));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const timeMs = async (f: () => Promise<unknown>) => {
  const t = performance.now();
  await f();
  return performance.now() - t;
};

/**
 * Rows a method cannot avoid running per image, by graph: the forward graph (f), the
 * forward+backward graph to the input (g) and to the explained layer (l), and the input-gradient
 * graph with the guided ReLU rule (guided). `live` is the number of channels of the layer that are
 * not zero everywhere (Score-CAM's masked copies).
 */
type Floor = { f: number; g: number; l: number; guided: number };
function floorRows(method: string, live: number): Floor {
  const none = { f: 0, g: 0, l: 0, guided: 0 };
  if (method === 'forward') return { ...none, f: 1 };
  if (method === 'ig') return { ...none, f: 2, g: 50 };
  if (method === 'smoothgrad') return { ...none, f: 1, g: 25 };
  if (method === 'occlusion') return { ...none, f: 1 + 27 * 27 };
  if (method === 'score-cam') return { ...none, f: 1 + live };
  if (method === 'guided-backprop') return { ...none, guided: 1 };
  // Its Grad-CAM gradient rides on the guided run (no ReLU above the explained layer).
  if (method === 'guided-gradcam') return { ...none, guided: 1 };
  if (['gradcam', 'gradcam++', 'layercam'].includes(method)) return { ...none, l: 1 };
  return { ...none, g: 1 };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'convlens-vs-torch-'));
  const py = new PythonWorker();
  const lines: string[] = [];
  try {
    for (const net of args.nets.split(',')) {
      const path = join(dir, `${net}.onnx`);
      await py.ask({ cmd: 'export', net, path });
      const model = new ConvlensModel(readModelFile(path), nodeBackend(), {
        threads,
        spinning: args.spinning as Spinning,
      });
      for (const batch of args.batches.split(',').map(Number)) {
        const inputPath = join(dir, `input-${batch}.bin`);
        await py.ask({ cmd: 'input', batch, path: inputPath });
        const bytes = readFileSync(inputPath);
        const x = float32(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), [
          batch,
          3,
          224,
          224,
        ]);
        const layer = await new Explainer(model, x, { logits: 'logits' }).resolveLayer();
        const activations = (await model.run(x, { outputs: [layer] }))[layer];
        const [, channels, h, w] = activations.dims;
        const act = activations.data as Float32Array;
        let liveChannels = 0;
        for (let k = 0; k < batch * channels; k++)
          if (act.subarray(k * h * w, (k + 1) * h * w).some((v) => v !== 0)) liveChannels++;
        const selected = Object.keys(METHODS).filter(
          (method) =>
            !(batch > 1 && SLOW.has(method) && !args.full) &&
            !(args.methods && !args.methods.split(',').includes(method)),
        );
        // Floors: each graph a method needs, timed plain at this batch and at 32 rows, on sessions
        // of their own released after (ResNet-50's 32-row gradient graphs hold gigabytes).
        const floorModel = new ConvlensModel(model.model, nodeBackend(), { ...model.sessionOptions });
        const floorOf = async (rows: number): Promise<Floor> => {
          const t: Tensor = float32(new Float32Array(rows * 3 * 224 * 224).fill(0.1), [rows, 3, 224, 224]);
          const objective = [{ tensor: 'logits', weights: classSeed([rows, 1000], 0) }];
          const graphs: Record<keyof Floor, () => Promise<unknown>> = {
            f: () => floorModel.run(t, { outputs: ['logits'] }),
            g: () => floorModel.gradients(t, { objective, wrt: ['input'] }),
            l: () => floorModel.gradients(t, { objective, wrt: [layer] }),
            guided: () => floorModel.gradients(t, { objective, wrt: ['input'], reluRule: 'guided' }),
          };
          const times = { f: [], g: [], l: [], guided: [] } as Record<keyof Floor, number[]>;
          for (const run of Object.values(graphs)) await run();
          // Each after the same pause as the paired calls, so the floor pays the same thread wake-up.
          for (let r = 0; r < 3; r++)
            for (const [kind, run] of Object.entries(graphs)) {
              await pause();
              times[kind as keyof Floor].push(await timeMs(run));
            }
          return { f: median(times.f), g: median(times.g), l: median(times.l), guided: median(times.guided) };
        };
        const small = await floorOf(batch);
        const big = selected.some((m) => SLOW.has(m)) ? await floorOf(ROWS) : small;
        await floorModel.release();
        const floor = (rows: number, kind: keyof Floor) =>
          rows === 0 ? 0 : rows <= batch ? small[kind] * (rows / batch) : Math.ceil(rows / ROWS) * big[kind];
        for (const method of selected) {
          const params = METHODS[method];
          const convlens = () =>
            method === 'forward'
              ? model.run(x, { outputs: ['logits'] })
              : explain(new Explainer(model, x, { logits: 'logits', batch: ROWS }), {
                  methods: [method],
                  params: { [method]: params },
                });
          const torch = () => py.ask({ cmd: 'time', net, method, path: inputPath });
          await convlens();
          await torch();
          const ratios: number[] = [];
          const ours: number[] = [];
          const theirs: number[] = [];
          for (let r = 0; r < rounds; r++) {
            let a = 0;
            let b = 0;
            if (r % 2 === 0) {
              a = await timeMs(convlens);
              await pause();
              b = (await torch()).ms!;
            } else {
              b = (await torch()).ms!;
              await pause();
              a = await timeMs(convlens);
            }
            await pause();
            ours.push(a);
            theirs.push(b);
            ratios.push(a / b);
          }
          const rows = floorRows(method, liveChannels / batch);
          const least = (Object.keys(rows) as (keyof Floor)[]).reduce(
            (sum, k) => sum + floor(rows[k] * batch, k),
            0,
          );
          const line = `| ${net} | ${batch} | ${method} | ${median(ours).toFixed(1)} | ${median(theirs).toFixed(1)} | **${median(ratios).toFixed(2)}** | ${(median(ours) / least).toFixed(2)} |`;
          lines.push(line);
          console.log(line);
        }
      }
      await model.release();
    }
  } finally {
    py.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `\n| network | images | method | convlens ms | PyTorch ms | convlens / PyTorch | convlens / floor |\n|---|---|---|---|---|---|---|\n${lines.join('\n')}`,
  );
}

await main();
