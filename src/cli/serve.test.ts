import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDatasetSplits } from '../data/node.js';
import { type CliProcess, spawnCli } from '../jobs/testSupport.js';
import { cli } from './harness.js';

const running: CliProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.child.kill('SIGINT');
    await p.exited;
  }
});

function serve(...args: string[]): CliProcess {
  const p = spawnCli(['serve', '--port', '0', ...args], process.cwd());
  running.push(p);
  return p;
}

describe('convlens serve', () => {
  it('binds 127.0.0.1 by default, prints its URL and serves the app and the shipped models', async () => {
    const p = serve();
    const [, url] = await p.waitFor(/convlens explorer at (http:\/\/127\.0\.0\.1:\d+\/)/);
    const manifest = (await (await fetch(`${url}api/manifest`)).json()) as {
      models: { name: string; url: string }[];
    };
    expect(manifest.models.map((m) => m.name)).toContain('shapes-gap');
    const model = await fetch(new URL(manifest.models.find((m) => m.name === 'shapes-gap')!.url, url));
    expect(model.status).toBe(200);
    expect((await fetch(url)).headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(p.output()).not.toContain('warning');
  }, 30_000);

  it('warns when bound to another address', async () => {
    const p = serve('--host', '0.0.0.0');
    await p.waitFor(/convlens explorer at http:\/\/0\.0\.0\.0:\d+\//);
    expect(p.output()).toContain(
      'warning: serving on 0.0.0.0: anyone who can reach this address can load the models it serves',
    );
  }, 30_000);

  it('serves the test images of the datasets it names by index, as PNG', async () => {
    const p = serve('--data', 'shapes', 'assets/photos');
    const [, url] = await p.waitFor(/convlens explorer at (http:\/\/127\.0\.0\.1:\d+\/)/);
    const data = (await (await fetch(`${url}api/data`)).json()) as { name: string; length: number }[];
    expect(data.map((d) => d.name)).toEqual(['shapes', 'photos']);
    expect(data[1].length).toBe(readdirSync('assets/photos').filter((f) => /\.(jpe?g|png)$/i.test(f)).length);
    // Sample 0 of each: the built-in's pixels at 64 px, the folder's first file as it is.
    const raw = async (png: Buffer) => (await sharp(png).removeAlpha().raw().toBuffer()).toString('base64');
    const served = async (set: number) => {
      const r = await fetch(`${url}api/data/${set}/0.png`);
      expect(r.headers.get('content-type')).toBe('image/png');
      return raw(Buffer.from(await r.arrayBuffer()));
    };
    const shape = (await loadDatasetSplits('shapes', { size: [64, 64], channels: 3, resize: 'exact' })).test;
    const { image } = await shape.get(0);
    const rgb = Buffer.alloc(64 * 64 * 3);
    for (let i = 0; i < 64 * 64; i++)
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(255 * image[c * 64 * 64 + i]);
    expect(await served(0)).toBe(rgb.toString('base64'));
    const first = readdirSync('assets/photos')
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort()[0];
    expect(await served(1)).toBe(await raw(await sharp(join('assets/photos', first)).png().toBuffer()));
    expect((await fetch(`${url}api/data/1/${data[1].length}.png`)).status).toBe(404);
    expect((await fetch(`${url}api/data/2/0.png`)).status).toBe(404);
  }, 30_000);

  it('refuses a model that does not exist or is not .onnx, and data that is neither built in nor a folder', async () => {
    let r = await cli('serve', '--port', '0', '--model', 'nope.onnx');
    expect(r.code).toBe(1);
    expect(r.err).toContain('model file "nope.onnx" does not exist');
    r = await cli('serve', '--port', '0', '--model', 'package.json');
    expect(r.err).toContain('--model "package.json" is not an .onnx file');
    // A scan index whose image folder has changed since the scan.
    const folder = mkdtempSync(join(tmpdir(), 'convlens-serve-'));
    try {
      for (const f of ['brick.png', 'grass.png']) copyFileSync(join('assets/photos', f), join(folder, f));
      const index = join(folder, 'scan.json');
      expect((await cli('scan', '-q', '--data', folder, '--top', '1', '-o', index)).code).toBe(0);
      copyFileSync('assets/photos/gravel.png', join(folder, 'gravel.png'));
      for (const args of [
        ['serve', '--port', '0', '--index', index],
        ['patches', '--index', index, '-o', join(folder, 'p.png')],
      ]) {
        r = await cli(...args);
        expect(r.code).toBe(1);
        expect(r.err).toContain(
          `of scan index "${index}" has changed since the scan (its fingerprint differs)`,
        );
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    r = await cli('serve', '--port', '0', '--data', 'imagenet');
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'data "imagenet" is neither a built-in dataset (mnist, shapes) nor an existing folder',
    );
  });
});
