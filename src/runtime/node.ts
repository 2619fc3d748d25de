/** The Node.js backend: onnxruntime-node (CPU; CUDA where the installed binary has it). */
import * as ort from 'onnxruntime-node';
import { OrtBackend, type OrtModule } from './onnxruntime.js';

let backend: OrtBackend | undefined;

/**
 * The shared onnxruntime-node backend. `CONVLENS_THREADS=N` in the environment sets the intra-op
 * threads of every session that does not choose its own (as OMP_NUM_THREADS does for other tools).
 */
export function nodeBackend(): OrtBackend {
  if (!backend) {
    const listed = ort.listSupportedBackends?.().map((b) => b.name) ?? ['cpu'];
    backend = new OrtBackend('onnxruntime-node', ort as unknown as OrtModule, listed, threadsFromEnv());
  }
  return backend;
}

function threadsFromEnv(): number | undefined {
  const text = process.env.CONVLENS_THREADS;
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`CONVLENS_THREADS must be a positive integer, got "${text}"`);
  return n;
}
