/** Test support: a real redis-server on a free port, and convlens processes run from the sources. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkQueue, parseQueueUrl } from './queueUrl.js';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
/** Queue tests run where redis-server exists and always in CI (where a missing server must fail). */
export const REDIS_AVAILABLE = existsSync(REDIS_SERVER) || !!process.env.CI;

/** A port nothing listens on (free a moment ago). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** Start redis-server on 127.0.0.1 with no persistence; `stop` kills it. */
export async function startRedis(dir: string): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await checkQueue(parseQueueUrl(url), 500);
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, stop: () => child.kill('SIGKILL') };
}

const MAIN = resolve(fileURLToPath(import.meta.url), '../../cli/main.ts');
/** tsx's loader by absolute URL: children may run in folders with no node_modules. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A convlens process: what it printed so far, a wait for a line, and its exit. */
export interface CliProcess {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Run `convlens ARGS` in `cwd` from the TypeScript sources. */
export function spawnCli(args: string[], cwd: string): CliProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      TSX,
      '-e',
      `import(${JSON.stringify(MAIN)}).then((m) => m.main(process.argv))`,
      'convlens',
      ...args,
    ],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  const listeners = new Set<() => void>();
  const add = (d: Buffer) => {
    text += d;
    for (const l of listeners) l();
  };
  child.stdout!.on('data', add);
  child.stderr!.on('data', add);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((done, fail) => {
        const check = () => {
          const m = text.match(pattern);
          if (!m) return;
          listeners.delete(check);
          clearTimeout(timer);
          done(m);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          fail(new Error(`timed out waiting for ${pattern}; output so far:\n${text}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}
