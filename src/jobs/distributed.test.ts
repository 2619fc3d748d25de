/**
 * Sharded scans against a real redis-server and real `convlens worker` processes: every way of
 * splitting the work (threads, queue workers, a worker killed mid-shard, a coordinator killed and
 * restarted) yields the bytes of one single-process scan.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { modelsDir } from '../cli/common.js';
import { cli } from '../cli/harness.js';
import { QUEUE_NAME } from './queue.js';
import { connectionOptions, parseQueueUrl } from './queueUrl.js';
import { type CliProcess, freePort, REDIS_AVAILABLE, spawnCli, startRedis } from './testSupport.js';

let dir: string;
let redis: { url: string; stop: () => void } | undefined;
const children: CliProcess[] = [];
const REFERENCE = () => join(dir, 'reference.json');
const scanArgs = (out: string, ...rest: string[]) => [
  'scan',
  '--range',
  '0:384',
  '--batch',
  '32',
  '--top',
  '4',
  '--out',
  out,
  '--quiet',
  ...rest,
];
const bytes = (f: string) => readFileSync(f, 'utf8');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-distributed-'));
  expect((await cli(...scanArgs(REFERENCE()))).code).toBe(0);
}, 60_000);
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.child.kill('SIGKILL');
    await c.exited;
  }
});
afterAll(() => {
  redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A worker presumed dead after 1.5 s of silence (the stalled-job check runs that often too). */
function worker(url: string, cwd = dir, ...rest: string[]): CliProcess {
  const w = spawnCli(['worker', '--queue', url, '--lock-ms', '1500', ...rest], cwd);
  children.push(w);
  return w;
}

describe('scan on local worker threads', () => {
  it('--workers 2 equals one process, byte for byte', async () => {
    const out = join(dir, 'threads.json');
    const r = await cli('--threads', '1', ...scanArgs(out, '--workers', '2', '--shard-size', '96'));
    expect(r.err).toBe('');
    expect(r.out).toContain('scanned 384/2000 images');
    expect(bytes(out)).toBe(bytes(REFERENCE()));
  }, 60_000);
});

const dissectArgs = (out: string, ...rest: string[]) => [
  'dissect',
  '--images',
  '48',
  '--layers',
  'relu1,features',
  '--batch',
  '16',
  '--out',
  out,
  '-q',
  ...rest,
];
/** The dissection's result (its state may order sparse counts differently; the labels it yields may not differ). */
const dissectResult = (d: string) =>
  createHash('sha256')
    .update(bytes(join(d, 'dissect.json')))
    .digest('hex');

describe('dissect on local worker threads', () => {
  it('dissect --workers 2 counts in shards and finishes as one run', async () => {
    const whole = join(dir, 'dissect-whole');
    expect((await cli(...dissectArgs(whole))).code).toBe(0);
    const threads = join(dir, 'dissect-threads');
    const r = await cli('--threads', '1', ...dissectArgs(threads, '--workers', '2', '--shard-size', '16'));
    expect(r.err).toBe('');
    expect(dissectResult(threads)).toBe(dissectResult(whole));
  }, 60_000);
});

const embedArgs = (out: string, ...rest: string[]) => [
  'embed',
  '--model',
  'shapes-gap',
  '--data',
  'shapes',
  '--limit',
  '200',
  '--methods',
  'pca',
  '--batch',
  '32',
  '--out',
  out,
  '-q',
  ...rest,
];

describe('embed on local worker threads', () => {
  it('embed --workers 2 extracts features in shards: the same features and PCA as one process', async () => {
    const one = join(dir, 'embed-one');
    const two = join(dir, 'embed-two');
    expect((await cli(...embedArgs(one))).code).toBe(0);
    const r = await cli('--threads', '1', ...embedArgs(two, '--workers', '2', '--shard-size', '64'));
    expect(r.err).toBe('');
    for (const f of ['features.npy', 'pca.npy', 'neighbours.png'])
      expect(readFileSync(join(two, f)).equals(readFileSync(join(one, f))), f).toBe(true);
  }, 60_000);
});

const faithfulnessArgs = (out: string, ...rest: string[]) => [
  'faithfulness',
  '--count',
  '8',
  '--methods',
  'saliency,smoothgrad,gradcam',
  '--metrics',
  'deletion,insertion,confidence,road,pointing,energy',
  '--step',
  '0.1',
  '--road-fractions',
  '0.3,0.7',
  '--out',
  out,
  '-q',
  ...rest,
];
/** The report without its time. */
const faithfulnessResult = (d: string) => {
  const { ms: _, ...report } = JSON.parse(bytes(join(d, 'faithfulness.json')));
  return report;
};

describe('faithfulness on local worker threads', () => {
  it('--workers 2 measures in shards and reports exactly what one process reports', async () => {
    const randomised = ['--metrics', 'deletion,road,pointing,independent'];
    const one = join(dir, 'faithfulness-one');
    expect((await cli(...faithfulnessArgs(one, ...randomised))).code).toBe(0);
    const two = join(dir, 'faithfulness-two');
    const r = await cli(
      '--threads',
      '1',
      ...faithfulnessArgs(two, ...randomised, '--workers', '2', '--shard-size', '3'),
    );
    expect(r.err).toBe('');
    expect(faithfulnessResult(two)).toEqual(faithfulnessResult(one));
    expect(existsSync(join(two, 'faithfulness.partial.json'))).toBe(false);
  }, 90_000);

  it('an interrupted run is resumed only when asked, and only by the same job', async () => {
    const out = join(dir, 'faithfulness-partial');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'faithfulness.partial.json'), '{}');
    const asked = await cli(...faithfulnessArgs(out, '--workers', '2'));
    expect(asked.code).toBe(1);
    expect(asked.err).toMatch(/faithfulness\.partial\.json" exists; pass --resume/);
    expect((await cli(...faithfulnessArgs(out, '--workers', '2', '--resume'))).err).toMatch(
      /is not a convlens faithfulness-measures result/,
    );
  }, 60_000);
});

describe('bad input', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'a malformed queue URL',
      ['--queue', 'http://x:1'],
      /--queue "http:\/\/x:1" is not a queue URL \(scheme "http"\)/,
    ],
    [
      'a database that is not a number',
      ['--queue', 'redis://127.0.0.1:6379/x'],
      /database "x" is not a number/,
    ],
    ['a shard size below 1', ['--workers', '2', '--shard-size', '0'], /--shard-size.*positive integer/],
    [
      'both --workers and --queue',
      ['--workers', '2', '--queue', 'redis://127.0.0.1:1'],
      /--workers and --queue exclude each other/,
    ],
  ];
  it.each(cases)('%s is refused with a clear error', async (_, flags, message) => {
    const out = join(dir, 'bad.json');
    const r = await cli(...scanArgs(out, ...flags));
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(message);
    expect(() => readFileSync(out)).toThrow();
  });

  it('an unreachable queue fails within seconds, naming it', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const r = await cli(...scanArgs(join(dir, 'none.json'), '--queue', url));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot reach the queue at ${url}`);
    expect(Date.now() - started).toBeLessThan(10_000);
    const w = await cli('worker', '--queue', url);
    expect(w.err).toContain(`cannot reach the queue at ${url}`);
  }, 30_000);

  it('a results folder that is not writable stops the worker before it takes jobs', async () => {
    const file = join(dir, 'a-file');
    copyFileSync(REFERENCE(), file);
    const r = await cli('worker', '--queue', 'redis://127.0.0.1:1', '--results', join(file, 'sub'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--results ".*a-file\/sub" is not a writable folder/);
  });
});

describe.skipIf(!REDIS_AVAILABLE)('a BullMQ queue on redis-server', () => {
  beforeAll(async () => {
    redis = await startRedis(dir);
  }, 30_000);

  it('three workers scan in shards and the merged index equals one scan, byte for byte', async () => {
    const results = join(dir, 'results');
    const ws = [worker(redis!.url), worker(redis!.url), worker(redis!.url, dir, '--results', results)];
    await Promise.all(ws.map((w) => w.waitFor(/takes jobs from/)));
    const out = join(dir, 'queue.json');
    const r = await cli(...scanArgs(out, '--queue', redis!.url, '--shard-size', '64'));
    expect(r.err).toBe('');
    expect(bytes(out)).toBe(bytes(REFERENCE()));
    const done = ws.map((w) => (w.output().match(/ done/g) ?? []).length);
    expect(done.reduce((a, b) => a + b)).toBe(6);
  }, 120_000);

  it('a worker killed mid-shard: its shard is retried by another and the index is the same', async () => {
    const first = worker(redis!.url);
    await first.waitFor(/takes jobs from/);
    const out = join(dir, 'killed.json');
    const coordinator = cli(...scanArgs(out, '--queue', redis!.url, '--shard-size', '192', '--batch', '8'));
    const [, job] = await first.waitFor(/job (\S+) started/);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = worker(redis!.url);
    const r = await coordinator;
    expect(r.err).toBe('');
    expect(second.output()).toContain(`job ${job} started`);
    expect(bytes(out)).toBe(bytes(REFERENCE()));
  }, 120_000);

  it('a coordinator killed and restarted resumes without redoing finished shards', async () => {
    const w = worker(redis!.url);
    await w.waitFor(/takes jobs from/);
    const out = join(dir, 'restarted.json');
    const args = scanArgs(out, '--queue', redis!.url, '--shard-size', '32', '--resume');
    const first = spawnCli(args, dir);
    children.push(first);
    await w.waitFor(/(job \S+ done[\s\S]*){3}/);
    first.child.kill('SIGKILL');
    await first.exited;
    const r = await cli(...args);
    expect(r.err).toBe('');
    expect(bytes(out)).toBe(bytes(REFERENCE()));
    // Shards the first coordinator merged are not asked for again; those done after it died are
    // read back from Redis: each of the 12 ran once.
    const started = [...w.output().matchAll(/job (\S+) started/g)].map((m) => m[1]);
    expect(started).toHaveLength(12);
    expect(new Set(started).size).toBe(12);
  }, 120_000);

  it('dissect and embed --queue run their shards on workers and finish as one run', async () => {
    const ws = [worker(redis!.url), worker(redis!.url)];
    await Promise.all(ws.map((w) => w.waitFor(/takes jobs from/)));
    const queued = join(dir, 'dissect-queued');
    const r = await cli(...dissectArgs(queued, '--queue', redis!.url, '--shard-size', '16'));
    expect(r.err).toBe('');
    expect(dissectResult(queued)).toBe(dissectResult(join(dir, 'dissect-whole')));
    const embedded = join(dir, 'embed-queued');
    expect((await cli(...embedArgs(embedded, '--queue', redis!.url, '--shard-size', '64'))).err).toBe('');
    const features = (d: string) => readFileSync(join(d, 'features.npy'));
    expect(features(embedded).equals(features(join(dir, 'embed-one')))).toBe(true);
  }, 120_000);

  it('faithfulness --queue: a coordinator killed and restarted with --resume reports what one process does', async () => {
    const one = join(dir, 'faithfulness-reference');
    expect((await cli(...faithfulnessArgs(one))).code).toBe(0);
    const w = worker(redis!.url);
    await w.waitFor(/takes jobs from/);
    const out = join(dir, 'faithfulness-queued');
    const args = faithfulnessArgs(out, '--queue', redis!.url, '--shard-size', '2');
    const first = spawnCli(args, dir);
    children.push(first);
    await w.waitFor(/(job \S+ done[\s\S]*){2}/);
    first.child.kill('SIGKILL');
    await first.exited;
    const r = await cli(...args, '--resume');
    expect(r.err).toBe('');
    expect(faithfulnessResult(out)).toEqual(faithfulnessResult(one));
    // Each of the 4 shards ran once: merged before the kill, or read back from Redis after it.
    const started = [...w.output().matchAll(/job (\S+) started/g)].map((m) => m[1]);
    expect(started).toHaveLength(4);
    expect(new Set(started).size).toBe(4);
  }, 120_000);

  it('Ctrl-C on the coordinator removes the shards no worker has started', async () => {
    const queue = new Queue(QUEUE_NAME, { connection: connectionOptions(parseQueueUrl(redis!.url)) });
    try {
      const out = join(dir, 'cancelled.json');
      const coordinator = spawnCli(scanArgs(out, '--queue', redis!.url, '--shard-size', '32'), dir);
      children.push(coordinator);
      // No worker runs: the 12 shards wait until the coordinator is interrupted.
      while ((await queue.getJobCounts('waiting')).waiting < 12) await new Promise((r) => setTimeout(r, 100));
      coordinator.child.kill('SIGINT');
      expect(await coordinator.exited).toEqual({ code: 130, signal: null });
      expect(await queue.getJobCounts('waiting', 'active', 'completed')).toEqual({
        waiting: 0,
        active: 0,
        completed: 0,
      });
    } finally {
      await queue.close();
    }
  }, 60_000);

  it('a worker with a different model file refuses the job', async () => {
    const mine = join(dir, 'coordinator');
    const theirs = join(dir, 'other-machine');
    mkdirSync(mine);
    mkdirSync(theirs);
    copyFileSync(join(modelsDir(), 'shapes-gap.onnx'), join(mine, 'model.onnx'));
    copyFileSync(join(modelsDir(), 'shapes-vgg.onnx'), join(theirs, 'model.onnx'));
    const w = worker(redis!.url, theirs);
    await w.waitFor(/takes jobs from/);
    // The same relative path names different bytes on the two "machines".
    const coordinator = spawnCli(
      [
        'scan',
        '--model',
        'model.onnx',
        '--range',
        '0:64',
        '--out',
        'refused.json',
        '--queue',
        redis!.url,
        '--attempts',
        '1',
        '--quiet',
      ],
      mine,
    );
    children.push(coordinator);
    expect(await coordinator.exited).toEqual({ code: 1, signal: null });
    expect(coordinator.output()).toMatch(
      /shard 0:64 failed after 1 attempt\(s\): worker .* refuses the job: its model "model.onnx" has sha256 \w{12}…, the job was made with \w{12}…/,
    );
    expect(() => readFileSync(join(mine, 'refused.json'))).toThrow();
  }, 60_000);
});
