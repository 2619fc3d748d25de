/**
 * Interruptions: Ctrl-C (SIGINT) or SIGTERM in the middle of a long verb leaves either nothing or a
 * complete, resumable state. Each case runs the CLI in a child process (from the TypeScript
 * sources, through tsx) in an empty folder and signals it a few seconds in.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../jobs/testSupport.js';
import { cli } from './harness.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-interrupt-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run `convlens ARGS` in `cwd`, send `signal` after `ms`; resolves with how it ended and what it printed. */
async function interrupted(args: string[], signal: NodeJS.Signals, ms: number, cwd: string) {
  const run = spawnCli(args, cwd);
  const timer = setTimeout(() => run.child.kill(signal), ms);
  const { code, signal: sig } = await run.exited;
  clearTimeout(timer);
  return { code, signal: sig, err: run.output() };
}

const cases: [string, NodeJS.Signals, string[]][] = [
  [
    'explain',
    'SIGINT',
    ['explain', '--data', 'shapes', '--count', '64', '--method', 'ig,smoothgrad,occlusion', '-o', 'out'],
  ],
  [
    'explain',
    'SIGTERM',
    ['explain', '--data', 'shapes', '--count', '64', '--method', 'ig,smoothgrad,occlusion', '-o', 'out'],
  ],
  ['embed', 'SIGINT', ['embed', '--model', 'shapes-gap', '--data', 'shapes', '--limit', '2000', '-o', 'out']],
  ['train', 'SIGTERM', ['train', '--recipe', 'digits-gap', '--epochs', '2', '-o', 'out.onnx']],
];

describe('interrupted runs leave nothing', () => {
  it.each(cases)(
    '%s, %s',
    async (_, signal, args) => {
      const cwd = mkdtempSync(join(dir, 'run-'));
      const r = await interrupted(args, signal, 5000, cwd);
      // Killed by the signal (no handler), or stopped by its own handler with 128 + signal number.
      expect([signal, 130, 143], r.err).toContain(r.signal ?? r.code);
      expect(readdirSync(cwd)).toEqual([]);
    },
    60_000,
  );
});

describe('an interrupted scan keeps a resumable index', () => {
  it('SIGINT stops it after a batch with its index saved, and --resume finishes it', async () => {
    const cwd = mkdtempSync(join(dir, 'scan-'));
    const args = [
      'scan',
      '--data',
      'shapes',
      '--split',
      'train',
      '--layers',
      'relu1,relu2,relu3,relu4,features',
      '--batch',
      '8',
      '-o',
      'index.json',
    ];
    const r = await interrupted(args, 'SIGINT', 6000, cwd);
    expect(['SIGINT', 130], r.err).toContain(r.signal ?? r.code);
    if (r.signal !== null) {
      // Signalled before the pass began: nothing was written.
      expect(readdirSync(cwd)).toEqual([]);
      return;
    }
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/stopping after this batch/);
    expect(readdirSync(cwd)).toEqual(['index.json']);
    const partial = JSON.parse(readFileSync(join(cwd, 'index.json'), 'utf8'));
    const scanned = (i: { scanned: [number, number][] }) => i.scanned.reduce((a, [s, e]) => a + e - s, 0);
    expect(scanned(partial)).toBeGreaterThan(0);
    expect(scanned(partial)).toBeLessThan(8000);
    const resumed = await cli(
      ...args.map((a) => (a === 'index.json' ? join(cwd, a) : a)),
      '--resume',
      '--quiet',
    );
    expect(resumed.code, resumed.err).toBe(0);
    expect(scanned(JSON.parse(readFileSync(join(cwd, 'index.json'), 'utf8')))).toBe(8000);
    expect(existsSync(join(cwd, 'index.json.tmp'))).toBe(false);
  }, 120_000);
});
