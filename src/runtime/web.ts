/**
 * The browser backend: onnxruntime-web (WebAssembly; WebGPU where the browser has it). It also runs
 * under Node, which is how the shared rule suite checks it against onnxruntime-node.
 */
import * as ort from 'onnxruntime-web';
import { OrtBackend, type OrtModule } from './onnxruntime.js';

export interface WebBackendOptions {
  /** Where the ort-wasm*.wasm / .mjs files are served from (default: beside onnxruntime-web's bundle). */
  wasmPaths?: string;
  /** WebAssembly threads (needs a cross-origin-isolated page for more than 1). */
  threads?: number;
}

let backend: OrtBackend | undefined;

/**
 * The shared onnxruntime-web backend; `wasm` always, `webgpu` when `navigator.gpu` exists.
 *
 * @example
 * ```ts
 * import { ConvlensModel, webBackend, classSeed, float32 } from 'convlens/web';
 * const m = new ConvlensModel(modelBytes, webBackend({ wasmPaths: '/ort/' }));
 * const { gradients } = await m.gradients(float32(pixels, [1, 3, 32, 32]), {
 *   objective: [{ tensor: 'logits', weights: classSeed([1, 6], 2) }],
 * });
 * ```
 */
export function webBackend(options: WebBackendOptions = {}): OrtBackend {
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  if (options.threads !== undefined) ort.env.wasm.numThreads = options.threads;
  if (!backend) {
    const gpu = typeof navigator !== 'undefined' && 'gpu' in navigator;
    backend = new OrtBackend(
      'onnxruntime-web',
      ort as unknown as OrtModule,
      gpu ? ['wasm', 'webgpu'] : ['wasm'],
    );
  }
  return backend;
}
