/**
 * bench/threading: how onnxruntime's intra-op threads should wait, per kind of call convlens makes.
 * Each spinning mode ('auto', 'within-run', 'always', 'never') gets its own model and sessions; every round
 * runs each mode once, in an order that rotates per round, with a 0.3 s pause after each call (a
 * session whose threads still spin slows whoever runs next). Printed: the median time per mode and
 * the median over rounds of its time over 'never''s in the same round.
 *
 * Kinds of call: one session run again and again (forward; forward+backward), two sessions
 * alternating (forward, then gradient: IG's baseline and path, faithfulness's curves), batched
 * rows with JavaScript work between runs (occlusion), and whole explanations.
 * Run: npm run bench:threading [-- --threads 1,2] [--rounds 7] [--nets resnet18,mobilenet_v2,shapes-gap]
 *   [--modes auto,within-run,always,never] [--calls saliency,grad-cam]   (calls: names starting so)
 */
import { parseArgs } from 'node:util';
import { classSeed } from '../src/autodiff/seeds.js';
import { Explainer, explain } from '../src/methods/attribution/index.js';
import type { Model } from '../src/onnx/model.js';
import { float32, type Tensor } from '../src/onnx/tensor.js';
import { SPINNING, type Spinning } from '../src/runtime/backend.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';
import { mobilenetV2, resnet } from '../src/zoo/families.js';
import { shippedCase } from './cases.js';

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' },
    rounds: { type: 'string', default: '7' },
    nets: { type: 'string', default: 'resnet18,mobilenet_v2,shapes-gap' },
    modes: { type: 'string', default: SPINNING.join(',') },
    calls: { type: 'string' },
  },
});
const modes = args.modes.split(',') as Spinning[];
for (const m of modes) {
  if (!SPINNING.includes(m)) throw new Error(`--modes: unknown mode "${m}"; known: ${SPINNING.join(', ')}`);
}
if (!modes.includes('never')) throw new Error("--modes must include 'never', the reference of the ratios");
const wantedCall = (call: string) =>
  !args.calls || args.calls.split(',').some((prefix) => call.startsWith(prefix));
const rounds = Number(args.rounds);

interface Net {
  model: Model;
  logits: string;
  sample: number[];
  batches: number[];
}
const zooNet = (model: Model): Net => ({
  model,
  logits: model.graph.outputs[0].name,
  sample: [3, 224, 224],
  batches: [1, 8],
});
const NETS: Record<string, () => Net> = {
  resnet18: () => zooNet(resnet({ classes: 1000 })),
  mobilenet_v2: () => zooNet(mobilenetV2({ classes: 1000 })),
  'shapes-gap': () => {
    const c = shippedCase('shapes-gap');
    return { model: c.model, logits: c.logits ?? 'logits', sample: c.sample, batches: [1, 8] };
  },
};

const pause = () => new Promise((r) => setTimeout(r, 300));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** The calls timed for one network at one batch size, given a model. */
function calls(
  m: ConvlensModel,
  logits: string,
  x: Tensor,
  classes: number,
): Record<string, () => Promise<unknown>> {
  const n = x.dims[0];
  const seed = classSeed([n, classes], 0);
  const gradient = () => m.gradients(x, { objective: [{ tensor: logits, weights: seed }], wrt: ['input'] });
  const forward = () => m.run(x, { outputs: [logits] });
  const explainWith =
    (method: string, params: object = {}) =>
    () =>
      explain(new Explainer(m, x, { logits, batch: 32 }), {
        methods: [method],
        params: { [method]: params },
      });
  return {
    'forward ×3 (one session)': async () => {
      for (let i = 0; i < 3; i++) await forward();
    },
    'gradient ×3 (one session)': async () => {
      for (let i = 0; i < 3; i++) await gradient();
    },
    'forward, gradient ×3 (alternating)': async () => {
      for (let i = 0; i < 3; i++) {
        await forward();
        await gradient();
      }
    },
    'occlusion (rows, JS between runs)': explainWith('occlusion', { window: 32, stride: 16, baseline: 0 }),
    saliency: explainWith('saliency'),
    'grad-cam': explainWith('gradcam'),
    'guided backprop': explainWith('guided-backprop'),
    'IG, 16 steps': explainWith('ig', { steps: 16, baseline: 'zero' }),
  };
}

async function main() {
  const lines: string[] = [];
  for (const threads of args.threads.split(',').map(Number)) {
    for (const name of args.nets.split(',')) {
      if (!NETS[name])
        throw new Error(`--nets: unknown network "${name}"; known: ${Object.keys(NETS).join(', ')}`);
      const net = NETS[name]();
      const models = modes.map(
        (spinning) => new ConvlensModel(net.model, nodeBackend(), { threads, spinning }),
      );
      for (const batch of net.batches) {
        const x = float32(
          Float32Array.from(
            { length: batch * net.sample.reduce((a, b) => a * b) },
            (_, i) => Math.sin(i) * 0.5,
          ),
          [batch, ...net.sample],
        );
        const classes = (await models[0].run(x, { outputs: [net.logits] }))[net.logits].dims.at(-1)!;
        const byModel = models.map((m) => calls(m, net.logits, x, classes));
        for (const call of Object.keys(byModel[0]).filter(wantedCall)) {
          for (const c of byModel) await c[call]();
          const ms: number[][] = modes.map(() => []);
          for (let r = 0; r < rounds; r++) {
            for (let k = 0; k < modes.length; k++) {
              const j = (k + r) % modes.length;
              const t = performance.now();
              await byModel[j][call]();
              ms[j].push(performance.now() - t);
              await pause();
            }
          }
          const never = modes.indexOf('never');
          const cells = modes.map((s: Spinning, j) => {
            const ratio = median(ms[j].map((t, r) => t / ms[never][r]));
            return s === 'never'
              ? median(ms[j]).toFixed(1)
              : `${median(ms[j]).toFixed(1)} (${ratio.toFixed(2)})`;
          });
          const line = `| ${threads} | ${name} | ${batch} | ${call} | ${cells.join(' | ')} |`;
          lines.push(line);
          console.log(line);
        }
      }
      await Promise.all(models.map((m) => m.release()));
    }
  }
  console.log(
    `\n| threads | network | images | call | ${modes.map((s) => `${s} ms${s === 'never' ? '' : ' (/ never)'}`).join(' | ')} |\n|---|---|---|---|${modes.map(() => '---|').join('')}\n${lines.join('\n')}`,
  );
}

await main();
