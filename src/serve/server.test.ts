import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, explorerServer, safeSegments } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'convlens-serve-'));
let server: Server;
let port: number;

/** A raw request: the path goes out exactly as given (no client-side normalisation of `..`). */
function raw(
  path: string,
  method = 'GET',
  body?: Buffer,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', fail);
    if (body) req.write(body);
    req.end();
  });
}

beforeAll(async () => {
  mkdirSync(join(dir, 'app', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'app', 'index.html'), '<!doctype html><title>explorer</title>');
  writeFileSync(join(dir, 'app', 'assets', 'a.js'), 'export {}');
  writeFileSync(join(dir, 'secret.txt'), 'do not serve');
  symlinkSync(join(dir, 'secret.txt'), join(dir, 'app', 'escape.txt'));
  writeFileSync(join(dir, 'model.onnx'), 'onnx bytes');
  server = explorerServer({
    roots: [
      { prefix: '/models', files: { 'mine.onnx': join(dir, 'model.onnx') } },
      { prefix: '/', dir: join(dir, 'app') },
    ],
    routes: [
      {
        prefix: '/api/echo/',
        handle: async (rest) => (rest === 'x' ? { body: 'x', type: 'text/plain' } : undefined),
      },
    ],
    maxBody: 1024,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('the explorer server', () => {
  it('serves the app, named files and routes with a Content-Security-Policy and isolation headers', async () => {
    const index = await raw('/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>explorer</title>');
    expect(index.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(index.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(index.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect((await raw('/assets/a.js')).headers['content-type']).toMatch(/text\/javascript/);
    expect((await raw('/models/mine.onnx')).body).toBe('onnx bytes');
    expect((await raw('/api/echo/x')).body).toBe('x');
    expect((await raw('/api/echo/y')).status).toBe(404);
  });

  it.each([
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/assets/%2E%2E/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/assets%2f..%2f..%2fsecret.txt',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    `/${'%2e%2e/'.repeat(8)}etc/passwd`,
    '//etc/passwd',
    '/etc/passwd',
    `/${dir.slice(1)}/secret.txt`,
    '/escape.txt',
    '/models/../secret.txt',
    '/models/model.onnx',
    '/%00',
    '/%E0%A4%A',
  ])('refuses %s with 404', async (path) => {
    const r = await raw(path);
    expect(r.status).toBe(404);
    expect(r.body).not.toContain('do not serve');
  });

  it('refuses an absolute-form request target, and methods other than GET and HEAD', async () => {
    expect((await raw(`http://127.0.0.1:${port}/../secret.txt`)).status).toBe(404);
    const post = await raw('/', 'POST', Buffer.from('hi'));
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('answers an oversized upload with 413', async () => {
    const r = await raw('/', 'POST', Buffer.alloc(64 * 1024, 1));
    expect(r.status).toBe(413);
    expect(r.body).toContain('request body over 1024 bytes');
  });

  it('serves 100 concurrent requests', async () => {
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => raw(i % 2 ? '/' : '/assets/a.js')));
    expect(all.map((r) => r.status)).toEqual(new Array(100).fill(200));
  });
});

describe('safeSegments', () => {
  it.each([
    ['/a/b.png', ['a', 'b.png']],
    ['/a%20b/c', ['a b', 'c']],
    ['/a/../b', undefined],
    ['/a/./b', undefined],
    ['/a%2Fb', undefined],
  ])('%s → %o', (path, segments) => {
    expect(safeSegments(path)).toEqual(segments);
  });
});
