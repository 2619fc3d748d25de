/**
 * bench/inspect:
 * 1. scan throughput (images/s) as a fraction of plain batched-forward throughput over the same
 *    in-memory batches (goal ≥ 0.9), on the shipped models;
 * 2. peak memory (max RSS of a fresh process) of a scan against dataset size (goal: flat);
 * 3. Barnes–Hut t-SNE time for 10,000 × 50 points (10 Gaussian clusters), with its 5-NN accuracy;
 * 4. dissection throughput as a fraction of batched-forward throughput over the same in-memory
 *    shapes-concepts images (goal ≥ 0.8), and its peak memory against dataset size (goal: flat).
 * Run: npm run bench:inspect [-- --quick] [-- --only throughput|memory|tsne|dissect]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelsDir } from '../src/cli/common.js';
import { readCard } from '../src/data/card.js';
import { shapesConcepts } from '../src/data/concepts.js';
import { normalizeInto } from '../src/data/preprocess.js';
import { shapesDataset } from '../src/data/shapes.js';
import { knnAccuracy, nearestNeighbours } from '../src/maths/neighbours.js';
import { Random } from '../src/maths/random.js';
import { tsne } from '../src/maths/tsne.js';
import { dissect } from '../src/methods/inspect/dissect/dissect.js';
import { channelReducer, defersPositions, emptyIndex, scan } from '../src/methods/inspect/scan.js';
import { readModelFile } from '../src/node.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';
import { interleavedRatios } from './timing.js';

const quick = process.argv.includes('--quick');
const BATCH = 64;

function shipped(name: string) {
  const model = readModelFile(join(modelsDir(), `${name}.onnx`));
  return { model, card: readCard(model)! };
}

/** Scan `length` procedural shapes images with shapes-gap; prints the process's peak RSS in MiB. */
async function memoryRun(length: number): Promise<void> {
  const { model, card } = shipped('shapes-gap');
  const p = card.preprocessing;
  const data = shapesDataset({ size: p.size[0], seed: 9, length });
  const m = new ConvlensModel(model, nodeBackend());
  const layers = { relu2: [32, 32, 32], features: [64, 16, 16] } as const;
  const index = emptyIndex(
    {
      model: { name: 'shapes-gap', sha256: '-', input: [p.channels, ...p.size] },
      data: {
        spec: 'shapes',
        split: 'bench',
        length,
        classes: [...data.classes],
        fingerprint: '-',
        preprocessing: p,
      },
      top: 9,
    },
    Object.fromEntries(
      Object.entries(layers).map(([k, [channels, height, width]]) => [
        k,
        { channels, height, width, field: null },
      ]),
    ),
  );
  await scan(m, { length, classes: data.classes, load: (i) => data.get(i) }, index, {
    layers: Object.keys(layers),
    top: 9,
    batch: BATCH,
    toInput: (s, out, offset) => normalizeInto(s.image, p.channels, p, out, offset),
  });
  await m.release();
  process.stdout.write(`${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`);
}

/** Dissect `length` shapes-concepts images (drawn on demand) with shapes-gap; prints the peak RSS in MiB. */
async function dissectMemoryRun(length: number): Promise<void> {
  const { model, card } = shipped('shapes-gap');
  const p = card.preprocessing;
  const m = new ConvlensModel(model, nodeBackend());
  await dissect(m, shapesConcepts({ length, seed: 9, size: p.size[0] }), {
    layers: ['relu2', 'features'],
    batch: BATCH,
    toInput: (s, out, offset) => normalizeInto(s.image, p.channels, p, out, offset),
  });
  await m.release();
  process.stdout.write(`${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`);
}

/** Dissection against plain batched forward passes over the same in-memory images and masks. */
async function dissectThroughput(): Promise<void> {
  const { model, card } = shipped('shapes-gap');
  const p = card.preprocessing;
  const count = quick ? 512 : 2048;
  const data = shapesConcepts({ length: count, seed: 3, size: p.size[0] });
  const per = p.channels * p.size[0] * p.size[1];
  // Images and masks are made once, so both sides measure model and counting only.
  const samples = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const s = await data.load(i);
      const image = new Float32Array(per);
      normalizeInto(s.image, p.channels, p, image, 0);
      return { ...s, image };
    }),
  );
  const source = { ...data, load: (i: number) => samples[i] };
  const m = new ConvlensModel(model, nodeBackend());
  const x = new Float32Array(BATCH * per);
  const forward = async () => {
    for (let b = 0; b < count; b += BATCH) {
      for (let k = 0; k < BATCH; k++) x.set(samples[b + k].image, k * per);
      await m.run(
        { dtype: 'float32', dims: [BATCH, p.channels, ...p.size], data: x },
        { outputs: ['logits'] },
      );
    }
  };
  console.log(
    `\ndissection throughput vs batched forward (shapes-gap, batch ${BATCH}, ${count} in-memory shapes-concepts images, 2 threads)`,
  );
  console.log('layers                              forward img/s   dissect img/s   ratio');
  for (const layers of [
    ['features'],
    ['relu2', 'features'],
    ['relu1', 'relu2', 'relu3', 'relu4', 'features'],
  ]) {
    const once = async () => {
      await dissect(m, source, {
        layers,
        batch: BATCH,
        toInput: (s, out, offset) => out.set(s.image, offset),
      });
    };
    const {
      medians: [forwardMs, dissectMs],
      ratios: [, ratio],
    } = await interleavedRatios([forward, once], quick ? 3 : 7);
    console.log(
      `${layers.join(',').padEnd(36)}${((count / forwardMs) * 1000).toFixed(0).padStart(13)}${((count / dissectMs) * 1000).toFixed(0).padStart(16)}${ratio.toFixed(2).padStart(8)}`,
    );
  }
  await m.release();
  const sizes = quick ? [500, 2000] : [500, 2000, 8000];
  console.log(
    '\npeak memory of a dissection (shapes-gap, relu2 + features, images drawn on demand, fresh process each)',
  );
  console.log('images   max RSS MiB');
  const self = fileURLToPath(import.meta.url);
  for (const n of sizes) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--dissect-memory', String(n)], {
      encoding: 'utf8',
    });
    console.log(`${String(n).padStart(6)}   ${out.trim().padStart(11)}`);
  }
}

async function throughput(): Promise<void> {
  console.log(
    `scan throughput vs batched forward (batch ${BATCH}, same in-memory batches, 2 threads); ratio = median over interleaved rounds of the within-round ratio`,
  );
  console.log('model        layers               images   positions   forward img/s   scan img/s   ratio');
  // Short scans take positions in every batch; long ones defer them to one pass over the hits.
  const short = quick ? 256 : 1024;
  const long = quick ? 4096 : 32768;
  for (const [name, layers, count] of [
    ['digits-gap', ['features'], short],
    ['shapes-gap', ['features'], short],
    ['shapes-gap', ['relu2', 'features'], short],
    ['shapes-vgg', ['features'], short],
    ['digits-gap', ['features'], long],
    ['shapes-gap', ['relu2', 'features'], long],
  ] as const) {
    const { model, card } = shipped(name);
    const p = card.preprocessing;
    // At most 1024 distinct images, cycled through for longer scans.
    const distinct = Math.min(count, 1024);
    const data = shapesDataset({ size: p.size[0], seed: 3, length: distinct });
    const per = p.channels * p.size[0] * p.size[1];
    // Images are made once, so both sides measure model and bookkeeping only.
    const images = Array.from({ length: distinct }, (_, i) => {
      const s = data.get(i);
      const img = p.channels === 3 ? s.image : s.image.subarray(0, per);
      return { image: Float32Array.from(img), label: s.label };
    });
    const toInput = (s: { image: Float32Array }, out: Float32Array, offset: number) =>
      out.set(s.image, offset);
    const m = new ConvlensModel(model, nodeBackend());
    const logits = card.tensors?.logits ?? m.outputNames[0];
    const x = new Float32Array(BATCH * per);
    const forward = async () => {
      for (let b = 0; b < count; b += BATCH) {
        x.fill(0);
        for (let k = 0; k < BATCH && b + k < count; k++) toInput(images[(b + k) % distinct], x, k * per);
        await m.run(
          { dtype: 'float32', dims: [BATCH, p.channels, ...p.size], data: x },
          { outputs: [logits] },
        );
      }
    };
    const dims = Object.fromEntries(
      (await m.layers([1, p.channels, ...p.size]))
        .filter((l) => (layers as readonly string[]).includes(l.tensor))
        .map((l) => [l.tensor, { channels: l.shape[1], height: l.shape[2], width: l.shape[3], field: null }]),
    );
    const reducer = channelReducer(
      m,
      emptyIndex(
        {
          model: { name, sha256: '-', input: [] },
          data: { spec: '', split: '', length: 0, classes: [], fingerprint: '', preprocessing: p },
          top: 1,
        },
        dims,
      ).layers,
    );
    const scanOnce = async () => {
      const index = emptyIndex(
        {
          model: { name, sha256: '-', input: [p.channels, ...p.size] },
          data: {
            spec: 'shapes',
            split: 'bench',
            length: count,
            classes: ['a', 'b', 'c', 'd', 'e', 'f'],
            fingerprint: '-',
            preprocessing: p,
          },
          top: 9,
        },
        dims,
      );
      await scan(
        m,
        { length: count, classes: index.data.classes, load: (i) => images[i % distinct] },
        index,
        {
          layers: [...layers],
          top: 9,
          batch: BATCH,
          toInput,
          reducer,
        },
      );
    };
    const reps = quick || count > 1024 ? 5 : 21;
    // Interleaved (forward, scan, forward, …) so drift in machine load hits both alike.
    const {
      medians: [forwardMs, scanMs],
      ratios: [, ratio],
    } = await interleavedRatios([forward, scanOnce], reps);
    const deferred = defersPositions(dims, layers, 9, count);
    const fwd = (count / forwardMs) * 1000;
    const sc = (count / scanMs) * 1000;
    console.log(
      `${name.padEnd(13)}${layers.join(',').padEnd(21)}${String(count).padStart(6)}   ${(deferred ? 'deferred' : 'per batch').padEnd(12)}${fwd.toFixed(0).padStart(13)}${sc.toFixed(0).padStart(13)}${ratio.toFixed(2).padStart(8)}`,
    );
    await reducer.release();
    await m.release();
  }
}

function memory(): void {
  const sizes = quick ? [500, 2000] : [500, 2000, 8000];
  console.log('\npeak memory of a scan (shapes-gap, relu2 + features, top 9, fresh process each)');
  console.log('images   max RSS MiB');
  const self = fileURLToPath(import.meta.url);
  for (const n of sizes) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--memory', String(n)], {
      encoding: 'utf8',
    });
    console.log(`${String(n).padStart(6)}   ${out.trim().padStart(11)}`);
  }
}

function tsneTime(): void {
  const n = quick ? 2000 : 10000;
  const d = 50;
  const r = new Random(1);
  const centres = Array.from({ length: 10 }, () => Array.from({ length: d }, () => 2 * r.normal()));
  const data = new Float64Array(n * d);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    labels.push(i % 10);
    for (let j = 0; j < d; j++) data[i * d + j] = centres[i % 10][j] + r.normal();
  }
  const t = performance.now();
  const result = tsne({ data, n, d }, { seed: 1 });
  const ms = performance.now() - t;
  const acc = knnAccuracy(nearestNeighbours({ data: result.embedding, n, d: 2 }, 5), labels);
  console.log(`\nt-SNE (Barnes–Hut, θ 0.5, perplexity 30, 1000 iterations) of ${n} × ${d} points`);
  console.log(
    `time ${(ms / 1000).toFixed(1)} s   KL ${result.kl.toFixed(3)}   5-NN accuracy in 2-D ${(100 * acc).toFixed(1)}%`,
  );
}

const memoryArg = process.argv.indexOf('--memory');
const dissectMemoryArg = process.argv.indexOf('--dissect-memory');
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined;
const parts = ['throughput', 'memory', 'tsne', 'dissect'];
if (only !== undefined && !parts.includes(only))
  throw new Error(`--only must be one of ${parts.join(', ')}, got "${only}"`);
if (memoryArg > 0) await memoryRun(Number(process.argv[memoryArg + 1]));
else if (dissectMemoryArg > 0) await dissectMemoryRun(Number(process.argv[dissectMemoryArg + 1]));
else {
  if (!only || only === 'throughput') await throughput();
  if (!only || only === 'memory') memory();
  if (!only || only === 'tsne') tsneTime();
  if (!only || only === 'dissect') await dissectThroughput();
}
