/** `convlens serve`'s server: the built explorer, onnxruntime-web's runtime, the shipped and given models. */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join } from 'node:path';
import { modelsDir, SHIPPED_MODELS } from '../cli/common.js';
import { explorerServer } from './server.js';
import { checkDataSpec, indexPatches, sampleSource } from './sources.js';

/** Where `npm run build:web` puts the explorer. */
export const appDir = () => join(dirname(modelsDir()), 'dist-web');

export interface ExplorerOptions {
  /** Model files offered besides the shipped ones. */
  models?: string[];
  /** Datasets whose test images the page can pick (built-in names or image folders; default shapes, mnist). */
  data?: string[];
  /** A scan index whose top dataset patches the page shows per channel. */
  index?: string;
  port?: number;
  host?: string;
}

/**
 * Start the explorer's server; resolves once it listens, with its URL.
 *
 * @example
 * ```ts
 * const { url, close } = await startExplorer({ models: ['resnet18.onnx'], port: 0 });
 * console.log(`open ${url}`); // later: await close();
 * ```
 */
export async function startExplorer(
  options: ExplorerOptions = {},
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const app = appDir();
  if (!existsSync(join(app, 'index.html')))
    throw new Error(`the explorer is not built (no ${join(app, 'index.html')}); run \`npm run build:web\``);
  const files: Record<string, string> = {};
  for (const name of SHIPPED_MODELS) {
    const path = join(modelsDir(), `${name}.onnx`);
    if (existsSync(path)) files[`${name}.onnx`] = path;
  }
  for (const path of options.models ?? []) {
    if (!existsSync(path)) throw new Error(`model file "${path}" does not exist`);
    if (extname(path).toLowerCase() !== '.onnx') throw new Error(`--model "${path}" is not an .onnx file`);
    const name = basename(path);
    if (files[name] && files[name] !== path)
      throw new Error(`two models are called "${name}"; rename one (the explorer lists models by file name)`);
    files[name] = path;
  }
  const ort = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  const specs = options.data ?? ['shapes', 'mnist'];
  for (const spec of specs) checkDataSpec(spec);
  // Datasets load on their first request (MNIST's JSON takes half a second), so the app shows first.
  let loading: ReturnType<typeof loadDatasets> | undefined;
  const loadDatasets = () => Promise.all(specs.map(sampleSource));
  const patches = options.index ? await indexPatches(options.index) : undefined;
  const manifest = {
    models: Object.keys(files).map((f) => ({
      name: basename(f, '.onnx'),
      url: `/models/${encodeURIComponent(f)}`,
    })),
    index: patches?.summary,
  };
  const server = explorerServer({
    roots: [
      { prefix: '/ort', dir: ort },
      { prefix: '/models', files },
      { prefix: '/', dir: app },
    ],
    routes: [
      {
        prefix: '/api/',
        handle: async (rest) => {
          const json = (value: unknown) => ({
            body: JSON.stringify(value),
            type: 'application/json; charset=utf-8',
          });
          if (rest === 'manifest') return json(manifest);
          // patch/<layer>/<channel>/<rank>.png
          const p = /^patch\/(\d+)\/(\d+)\/(\d+)\.png$/.exec(rest);
          if (p) {
            const png = await patches?.png(Number(p[1]), Number(p[2]), Number(p[3]));
            return png ? { body: png, type: 'image/png' } : undefined;
          }
          loading ??= loadDatasets();
          const datasets = await loading;
          if (rest === 'data')
            return json(datasets.map(({ name, length, classes }) => ({ name, length, classes })));
          // data/<dataset>/<sample>.png
          const m = /^data\/(\d+)\/(\d+)\.png$/.exec(rest);
          const d = m ? datasets[Number(m[1])] : undefined;
          if (m && d && Number(m[2]) < d.length)
            return { body: await d.png(Number(m[2])), type: 'image/png' };
          // data/<dataset>/labels-<n>.json: the labels of the first n samples (−1: unlabelled)
          const l = /^data\/(\d+)\/labels-(\d+)\.json$/.exec(rest);
          const ld = l ? datasets[Number(l[1])] : undefined;
          if (l && ld) {
            const n = Math.min(Number(l[2]), ld.length);
            const labels = await Promise.all(Array.from({ length: n }, (_, i) => ld.label(i)));
            return json(labels);
          }
          return undefined;
        },
      },
    ],
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((done, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        new Error(
          e.code === 'EADDRINUSE'
            ? `port ${options.port} is in use; choose another --port`
            : `cannot listen on ${host}:${options.port}: ${e.message}`,
        ),
      ),
    );
    server.listen(options.port ?? 8080, host, () => done());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shown}:${port}/`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
