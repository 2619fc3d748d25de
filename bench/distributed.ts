/**
 * bench/distributed: throughput of a sharded scan (shapes-gap over the shapes train split) on
 * 1 and 2 local worker threads and on 2 queue workers (separate processes on this machine, one
 * onnxruntime thread each, one redis-server), as ratios to plain batched-forward throughput and
 * to the in-process scan measured in the same run; and the coordination overhead per shard at
 * shard sizes 64, 256 and 1,024. Goal: 2 queue workers ≥ 0.85 of the 2-thread in-process scan at
 * shard size 256.
 * Run: npm run bench:distributed [-- --quick]   (builds dist first: workers run the built CLI)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../src/jobs/testSupport.js';
import { Random } from '../src/maths/random.js';
import { float32 } from '../src/onnx/tensor.js';
import { ConvlensModel } from '../src/runtime/model.js';
import { nodeBackend } from '../src/runtime/node.js';
import { shippedCase } from './cases.js';

const quick = process.argv.includes('--quick');
const IMAGES = quick ? 2048 : 8000;
const BATCH = 64;
const dir = mkdtempSync(join(tmpdir(), 'convlens-bench-distributed-'));
// The built CLI, so worker threads and processes run plain JavaScript as a user's would.
const { main } = (await import(join(process.cwd(), 'dist/src/cli/main.js'))) as {
  main: (argv: string[]) => Promise<void>;
};

async function forwardPerMs(threads: number): Promise<number> {
  const c = shippedCase('shapes-gap');
  const m = new ConvlensModel(c.model, nodeBackend(), { threads });
  const x = float32(new Random(1).normals(BATCH * 3 * 64 * 64), [BATCH, ...c.sample]);
  await m.run(x, { outputs: [c.features!] });
  const t = performance.now();
  for (let done = 0; done < IMAGES; done += BATCH) await m.run(x, { outputs: [c.features!] });
  const ms = performance.now() - t;
  await m.release();
  return IMAGES / ms;
}

let runs = 0;
/** Wall time of one scan of the first IMAGES train images with the given flags. */
async function scanMs(global: string[], flags: string[]): Promise<number> {
  const out = join(dir, `scan-${runs++}.json`);
  const args = ['node', 'convlens', ...global, 'scan', '--split', 'train', '--range', `0:${IMAGES}`];
  const t = performance.now();
  await main([...args, '--batch', String(BATCH), '--out', out, '--quiet', ...flags]);
  if (process.exitCode) throw new Error(`scan ${flags.join(' ')} failed`);
  return performance.now() - t;
}

function startWorker(url: string): Promise<() => void> {
  const child = spawn(process.execPath, ['bin/convlens.js', '--threads', '1', 'worker', '--queue', url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((done) => {
    child.stdout.on('data', (d: Buffer) => {
      if (String(d).includes('takes jobs from')) done(() => child.kill('SIGTERM'));
    });
  });
}

const ROUNDS = quick ? 1 : 3;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const redis = await startRedis(dir);
const stops = await Promise.all([startWorker(redis.url), startWorker(redis.url)]);
/** Each measurement's wall times (ms) over rounds, in alternating order. */
const measures: [string, () => Promise<number>][] = [
  ['scan in-process, 1 thread (= --workers 1)', () => scanMs(['--threads', '1'], [])],
  ['scan in-process, 2 threads', () => scanMs(['--threads', '2'], [])],
  ['--workers 2, shard 256', () => scanMs(['--threads', '2'], ['--workers', '2', '--shard-size', '256'])],
  ...[64, 256, 1024].map((shard): [string, () => Promise<number>] => [
    `2 queue workers, shard ${shard}`,
    () => scanMs([], ['--queue', redis.url, '--shard-size', String(shard)]),
  ]),
];
const times = new Map<string, number[]>(measures.map(([name]) => [name, []]));
const forward: [number[], number[]] = [[], []];
try {
  // The first run opens the job on each queue worker (model, data); later runs reuse it.
  await scanMs([], ['--queue', redis.url, '--shard-size', '256', '--range', `0:${BATCH * 4}`]);
  for (let r = 0; r < ROUNDS; r++) {
    forward[0].push(await forwardPerMs(1));
    forward[1].push(await forwardPerMs(2));
    for (const [name, run] of r % 2 ? [...measures].reverse() : measures) times.get(name)!.push(await run());
  }
} finally {
  for (const stop of stops) stop();
  redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
const fwd1 = median(forward[0]);
const fwd2 = median(forward[1]);
const rate = (name: string) => IMAGES / median(times.get(name)!);
const scan1 = rate(measures[0][0]);
const scan2 = rate(measures[1][0]);
const header = ['run', 'images/s', '÷ forward (1 thread)', '÷ scan (2 threads)'];
const rows = [
  ['plain forward, 1 thread', fwd1, 1],
  ['plain forward, 2 threads', fwd2, 2],
  ...measures.map(([name]) => [name, rate(name), 0] as const),
].map(([name, r]) => [
  name,
  (Number(r) * 1000).toFixed(0),
  (Number(r) / fwd1).toFixed(2),
  String(name).startsWith('plain') ? '—' : (Number(r) / scan2).toFixed(2),
]);
console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
// Worker-time = compute + fixed + shards × per-shard: least squares over the three shard sizes.
const queued = [64, 256, 1024].map((shard) => [
  Math.ceil(IMAGES / shard),
  2 * median(times.get(`2 queue workers, shard ${shard}`)!),
]);
const mean = (f: (p: number[]) => number) => queued.reduce((a, p) => a + f(p), 0) / queued.length;
const [mn, mt] = [mean(([n]) => n), mean(([, t]) => t)];
const slope = mean(([n, t]) => (n - mn) * (t - mt)) / mean(([n]) => (n - mn) ** 2);
console.log(
  `\nqueue coordination (fitted over shard sizes 64, 256, 1024): ${slope.toFixed(1)} ms of worker time per shard; ${(mt - slope * mn - IMAGES / scan1).toFixed(0)} ms per run beyond the 1-thread scan's compute`,
);
console.log(
  `${IMAGES} shapes train images, shapes-gap, batch ${BATCH}, median of ${ROUNDS} rounds, ${new Date().toISOString().slice(0, 10)}`,
);
