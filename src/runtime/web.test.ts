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

// A web app that segments: it hands OpenCV.js to convlens through its own (bundled) import.
const SEGMENT_PAGE = `
import './module-global.js';
import cv from '@techstark/opencv-js';
import { segmentFromMap, setOpenCvLoader } from './src/web.ts';
// A static import: awaiting a bundler's namespace of OpenCV.js would adopt its self-resolving then.
setOpenCvLoader(() => ({ module: cv }));
globalThis.convlensSegment = async (image, map, h, w) => {
  const s = await segmentFromMap(
    { width: w, height: h, data: Uint8Array.from(image) },
    { data: map, height: h, width: w },
  );
  return Array.from(s.mask);
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
    // OpenCV.js names Node's fs and path in branches a browser never takes.
    const segment = await build({
      stdin: { contents: SEGMENT_PAGE, resolveDir: root, sourcefile: 'segment.js', loader: 'js' },
      // OpenCV.js's wrapper assigns a global Module, which strict (module) code must declare first.
      plugins: [
        {
          name: 'module-global',
          setup(b) {
            b.onResolve({ filter: /^\.\/module-global\.js$/ }, () => ({
              path: 'module-global',
              namespace: 'g',
            }));
            b.onLoad({ filter: /.*/, namespace: 'g' }, () => ({
              contents: 'globalThis.Module ??= {};',
              loader: 'js',
            }));
          },
        },
      ],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      external: ['fs', 'path', 'crypto'],
    });
    const files: Record<string, Uint8Array> = {
      '/': new TextEncoder().encode('<!doctype html><script type="module" src="/bundle.js"></script>'),
      '/segment.html': new TextEncoder().encode(
        '<!doctype html><script type="module" src="/segment.js"></script>',
      ),
      '/bundle.js': bundle.outputFiles[0].contents,
      '/segment.js': segment.outputFiles[0].contents,
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

  it.runIf(BROWSER_AVAILABLE)(
    "segments an image in Chromium with the mask onnxruntime-node's side gets",
    async () => {
      const { image, objects } = drawShapes(2, 0, 64, 0.02);
      // A map high on the labelled object: its mask, blurred by a box of 5.
      const mask = objects[0].mask;
      const map = Float32Array.from(mask, (_, j) => {
        let s = 0;
        for (let dy = -2; dy <= 2; dy++)
          for (let dx = -2; dx <= 2; dx++) {
            const y = Math.floor(j / 64) + dy;
            const x = (j % 64) + dx;
            if (y >= 0 && y < 64 && x >= 0 && x < 64) s += mask[y * 64 + x];
          }
        return s;
      });
      const rgb = new Uint8Array(64 * 64 * 3);
      for (let j = 0; j < 64 * 64; j++)
        for (let c = 0; c < 3; c++) rgb[j * 3 + c] = Math.round(image[c * 64 * 64 + j] * 255);
      await import('../node.js');
      const { segmentFromMap } = await import('../methods/segmentation/segment.js');
      const want = await segmentFromMap(
        { width: 64, height: 64, data: rgb },
        { data: map, height: 64, width: 64 },
      );
      const got = await withBrowser(async (browser) => {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${url}segment.html`);
        await page.waitForFunction(() => 'convlensSegment' in globalThis, undefined, { timeout: 20_000 });
        const r = await page.evaluate(
          ([img, m]) =>
            (
              globalThis as unknown as {
                convlensSegment: (i: number[], m: number[], h: number, w: number) => Promise<number[]>;
              }
            ).convlensSegment(img, m, 64, 64),
          [Array.from(rgb), Array.from(map)] as const,
        );
        expect(errors).toEqual([]);
        return r;
      });
      // The same OpenCV build and the same seeds: the same mask, bit for bit.
      expect(got).toEqual(Array.from(want.mask));
      expect(got.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    },
    120_000,
  );
});
