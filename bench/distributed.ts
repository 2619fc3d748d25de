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

const rows: string[][] = [];
const row = (...cells: (string | number)[]) => {
  rows.push(cells.map(String));
  console.error(cells.join('  '));
};
const fwd1 = await forwardPerMs(1);
const fwd2 = await forwardPerMs(2);
const scan1 = IMAGES / (await scanMs(['--threads', '1'], []));
const scan2 = IMAGES / (await scanMs(['--threads', '2'], []));
row('plain forward, 1 thread', (fwd1 * 1000).toFixed(0), '1.00', '—', '—');
row('plain forward, 2 threads', (fwd2 * 1000).toFixed(0), (fwd2 / fwd1).toFixed(2), '—', '—');
row(
  'scan in-process, 1 thread (= --workers 1)',
  (scan1 * 1000).toFixed(0),
  (scan1 / fwd1).toFixed(2),
  (scan1 / scan2).toFixed(2),
  '—',
);
row('scan in-process, 2 threads', (scan2 * 1000).toFixed(0), (scan2 / fwd1).toFixed(2), '1.00', '—');
/** Worker-time beyond what the 1-thread scan needs for the same images, per shard (fixed costs included). */
const overhead = (ms: number, workers: number, shard: number) =>
  ((ms * workers - IMAGES / scan1) / Math.ceil(IMAGES / shard)).toFixed(1);
const queued: [number, number][] = [];
for (const workers of [2]) {
  const ms = await scanMs(
    ['--threads', String(workers)],
    ['--workers', String(workers), '--shard-size', '256'],
  );
  const rate = IMAGES / ms;
  row(
    `--workers ${workers}, shard 256`,
    (rate * 1000).toFixed(0),
    (rate / fwd1).toFixed(2),
    (rate / scan2).toFixed(2),
    overhead(ms, workers, 256),
  );
}
const redis = await startRedis(dir);
const stops = await Promise.all([startWorker(redis.url), startWorker(redis.url)]);
try {
  // The first run opens the job on each worker (model, data); the sizes after reuse it.
  await scanMs([], ['--queue', redis.url, '--shard-size', '256', '--range', `0:${BATCH * 4}`]);
  for (const shard of [64, 256, 1024]) {
    const ms = await scanMs([], ['--queue', redis.url, '--shard-size', String(shard)]);
    queued.push([Math.ceil(IMAGES / shard), 2 * ms]);
    const rate = IMAGES / ms;
    row(
      `2 queue workers, shard ${shard}`,
      (rate * 1000).toFixed(0),
      (rate / fwd1).toFixed(2),
      (rate / scan2).toFixed(2),
      overhead(ms, 2, shard),
    );
  }
} finally {
  for (const stop of stops) stop();
  redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
const header = ['run', 'images/s', '÷ forward (1 thread)', '÷ scan (2 threads)', 'overhead ms/shard'];
console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(
  `\n${IMAGES} shapes train images, shapes-gap, batch ${BATCH}, ${new Date().toISOString().slice(0, 10)}`,
);
