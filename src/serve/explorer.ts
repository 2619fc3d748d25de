/** `convlens serve`'s server: the built explorer, onnxruntime-web's runtime, the shipped and given models. */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join } from 'node:path';
import sharp from 'sharp';
import { modelsDir, SHIPPED_MODELS } from '../cli/common.js';
import { BUILTIN_DATASETS, imageFolderSource, loadDatasetSplits } from '../data/node.js';
import { explorerServer } from './server.js';

/** A dataset's test images as PNG by index (built-ins drawn at their native size; folders' files as they are). */
async function sampleSource(spec: string) {
  if ((BUILTIN_DATASETS as readonly string[]).includes(spec)) {
    const size = spec === 'mnist' ? 28 : 64;
    const split = (await loadDatasetSplits(spec, { size: [size, size], channels: 3, resize: 'exact' })).test;
    return {
      name: spec,
      length: split.length,
      classes: [...split.classes],
      png: async (i: number) => {
        const { image } = await split.get(i);
        const channels = image.length / (size * size);
        const px = Buffer.alloc(size * size * 3);
        for (let k = 0; k < size * size; k++)
          for (let c = 0; c < 3; c++)
            px[k * 3 + c] = Math.round(255 * image[(channels === 3 ? c : 0) * size * size + k]);
        return sharp(px, { raw: { width: size, height: size, channels: 3 } })
          .png()
          .toBuffer();
      },
    };
  }
  if (!existsSync(spec))
    throw new Error(
      `data "${spec}" is neither a built-in dataset (${BUILTIN_DATASETS.join(', ')}) nor an existing folder`,
    );
  const source = imageFolderSource(spec, { size: [1, 1], channels: 3, resize: 'exact' });
  return {
    name: basename(spec),
    length: source.files.length,
    classes: [...source.classes],
    png: async (i: number) => sharp(join(spec, source.files[i])).png().toBuffer(),
  };
}

/** Where `npm run build:web` puts the explorer. */
export const appDir = () => join(dirname(modelsDir()), 'dist-web');

export interface ExplorerOptions {
  /** Model files offered besides the shipped ones. */
  models?: string[];
  /** Datasets whose test images the page can pick (built-in names or image folders; default shapes, mnist). */
  data?: string[];
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
  const datasets = await Promise.all((options.data ?? ['shapes', 'mnist']).map(sampleSource));
  const manifest = {
    models: Object.keys(files).map((f) => ({
      name: basename(f, '.onnx'),
      url: `/models/${encodeURIComponent(f)}`,
    })),
    data: datasets.map(({ name, length, classes }) => ({ name, length, classes })),
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
          if (rest === 'manifest')
            return { body: JSON.stringify(manifest), type: 'application/json; charset=utf-8' };
          // data/<dataset>/<sample>.png
          const m = /^data\/(\d+)\/(\d+)\.png$/.exec(rest);
          const d = m ? datasets[Number(m[1])] : undefined;
          if (!m || !d || Number(m[2]) >= d.length) return undefined;
          return { body: await d.png(Number(m[2])), type: 'image/png' };
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
