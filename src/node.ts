/** Node.js edge: models from and to files (with external data beside them), on onnxruntime-node. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setOpenCvLoader } from './methods/segmentation/grabcut.js';
import { decodeModel, type EncodeOptions, encodeModel, type Model } from './onnx/model.js';
import type { InferenceBackend, SessionOptions } from './runtime/backend.js';
import { ConvlensModel } from './runtime/model.js';
import { nodeBackend } from './runtime/node.js';

// OpenCV.js through require: it is CommonJS, and test runners that rewrite dynamic imports stall on it.
setOpenCvLoader(() => ({ module: createRequire(import.meta.url)('@techstark/opencv-js') }));

/** Read an ONNX file into the graph IR; external-data files are read from beside it. */
export function readModelFile(path: string): Model {
  const full = resolve(path);
  if (!existsSync(full)) throw new Error(`model file "${path}" does not exist`);
  const dir = dirname(full);
  return decodeModel(readFileSync(full), {
    source: `"${path}"`,
    readExternal: (location) => {
      const file = join(dir, location);
      if (!existsSync(file))
        throw new Error(`"${path}": external data file "${location}" not found beside the model`);
      return readFileSync(file);
    },
  });
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
let deferring = 0;
let pending: NodeJS.Signals | undefined;
const hold = (signal: NodeJS.Signals) => {
  // Raised again later only when nothing else listened (a listener such as a dataset pass's
  // Ctrl-C handler has had the signal already).
  if (process.listenerCount(signal) === 1) pending ??= signal;
};

/**
 * Run `write` (synchronous) so that Ctrl-C or SIGTERM cannot stop it halfway: while it runs, the
 * two signals are held, and one that came is raised again right after with its default effect,
 * unless another listener of the program took it. Nested calls hold until the outermost ends.
 * Without this, a signal during a write of several files would leave some of them.
 *
 * @example
 * ```ts
 * deferSignals(() => { writeFileSync('a.json', a); writeFileSync('b.json', b); }); // both or neither
 * ```
 */
export function deferSignals<T>(write: () => T): T {
  if (deferring++ === 0) for (const s of SIGNALS) process.on(s, hold);
  try {
    return write();
  } finally {
    if (--deferring === 0)
      // A signal that arrived during `write` reaches `hold` on the loop's next poll, before this.
      setImmediate(() => {
        if (deferring > 0) return;
        for (const s of SIGNALS) process.off(s, hold);
        const signal = pending;
        pending = undefined;
        if (signal) process.kill(process.pid, signal);
      });
  }
}

/** Write the IR as an ONNX file (atomically: a temporary file renamed into place). */
export function writeModelFile(path: string, model: Model, options: EncodeOptions = {}): void {
  const { bytes, external } = encodeModel(model, options);
  deferSignals(() => {
    if (external && options.externalData) {
      const extPath = join(dirname(resolve(path)), options.externalData.location);
      writeFileSync(`${extPath}.tmp`, external);
      renameSync(`${extPath}.tmp`, extPath);
    }
    writeFileSync(`${path}.tmp`, bytes);
    renameSync(`${path}.tmp`, path);
  });
}

export interface LoadOptions extends SessionOptions {
  backend?: InferenceBackend;
}

/**
 * Load an ONNX model (a path, ONNX bytes, or an IR model) for inference and gradients.
 *
 * @example
 * ```ts
 * import { loadModel, classSeed } from 'convlens';
 * const m = await loadModel('model.onnx', { threads: 2 });
 * console.table(await m.layers([1, 3, 224, 224]));
 * ```
 */
export async function loadModel(
  source: string | Uint8Array | Model,
  options: LoadOptions = {},
): Promise<ConvlensModel> {
  const { backend, ...session } = options;
  const model =
    typeof source === 'string'
      ? readModelFile(source)
      : source instanceof Uint8Array
        ? decodeModel(source)
        : source;
  return new ConvlensModel(model, backend ?? nodeBackend(), session);
}
