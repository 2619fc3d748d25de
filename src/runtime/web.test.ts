import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_AVAILABLE, withBrowser } from '../cli/harness.js';
import { drawShapes } from '../data/shapes.js';
import { explain } from '../methods/attribution/index.js';
import { Explainer } from '../methods/attribution/pipeline.js';
import { decodeModel } from '../onnx/model.js';
import { float32 } from '../onnx/tensor.js';
import { ConvlensModel } from './model.js';
import { nodeBackend } from './node.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const METHODS = ['saliency', 'guided-backprop', 'gradcam', 'gradcam++', 'cam'];

// What a page does with the browser entry (src/web.ts): explain one image with the wasm backend.
const PAGE = `
import { ConvlensModel, Explainer, decodeModel, explain, float32, webBackend } from './src/web.ts';
globalThis.convlensExplain = async (pixels, dims, methods) => {
  const bytes = new Uint8Array(await (await fetch('/model.onnx')).arrayBuffer());
  const backend = webBackend({ wasmPaths: '/ort/', threads: 1 });
  const m = new ConvlensModel(decodeModel(bytes), backend);
  const { maps } = await explain(new Explainer(m, float32(pixels, dims)), { methods });
  return { backend: backend.name, maps: maps.map((x) => ({ method: x.method, dims: x.dims, data: Array.from(x.data) })) };
};
`;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html',
};

describe('the browser build (onnxruntime-web in Chromium)', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    const bundle = await build({
      stdin: { contents: PAGE, resolveDir: root, sourcefile: 'page.js', loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    const files: Record<string, Uint8Array> = {
      '/': new TextEncoder().encode('<!doctype html><script type="module" src="/bundle.js"></script>'),
      '/bundle.js': bundle.outputFiles[0].contents,
      '/model.onnx': readFileSync(join(root, 'models', 'shapes-gap.onnx')),
    };
    const ort = join(root, 'node_modules', 'onnxruntime-web', 'dist');
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      try {
        const body =
          files[path] ?? (path.startsWith('/ort/') ? readFileSync(join(ort, path.slice(5))) : undefined);
        if (!body) throw new Error('not found');
        res.writeHead(200, {
          'content-type': TYPES[extname(path)] ?? (path === '/' ? 'text/html' : 'application/octet-stream'),
        });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((ok) => (server ? server.close(() => ok()) : ok())));

  it.runIf(BROWSER_AVAILABLE)(
    'explains an image in Chromium with the same maps as onnxruntime-node',
    async () => {
      const image = drawShapes(2, 0, 64, 0.03).image;
      const dims = [1, 3, 64, 64];
      const model = new ConvlensModel(
        decodeModel(readFileSync(join(root, 'models', 'shapes-gap.onnx'))),
        nodeBackend(),
      );
      const expected = (await explain(new Explainer(model, float32(image, dims)), { methods: METHODS })).maps;
      await model.release();
      const got = await withBrowser(async (browser) => {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(url);
        await page.waitForFunction(() => 'convlensExplain' in globalThis, undefined, { timeout: 20_000 });
        const r = await page.evaluate(
          ([pixels, d, methods]) =>
            (
              globalThis as unknown as {
                convlensExplain: (p: number[], d: number[], m: string[]) => Promise<unknown>;
              }
            ).convlensExplain(pixels, d, methods),
          [Array.from(image), dims, METHODS] as const,
        );
        expect(errors).toEqual([]);
        return r as { backend: string; maps: { method: string; dims: number[]; data: number[] }[] };
      });
      expect(got.backend).toBe('onnxruntime-web');
      expect(got.maps.map((m) => m.method)).toEqual(METHODS);
      for (const [i, m] of got.maps.entries()) {
        const want = expected[i].data;
        expect(m.dims).toEqual(expected[i].dims);
        const scale = Math.max(...Array.from(want, Math.abs));
        const worst = Math.max(...m.data.map((v, j) => Math.abs(v - want[j])));
        expect(scale, m.method).toBeGreaterThan(0);
        expect(worst / scale, m.method).toBeLessThan(1e-4);
      }
    },
    120_000,
  );
});
