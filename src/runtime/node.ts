/** The Node.js backend: onnxruntime-node (CPU; CUDA where the installed binary has it). */
import * as ort from 'onnxruntime-node';
import { OrtBackend, type OrtModule } from './onnxruntime.js';

let backend: OrtBackend | undefined;

/** The shared onnxruntime-node backend. */
export function nodeBackend(): OrtBackend {
  if (!backend) {
    const listed = ort.listSupportedBackends?.().map((b) => b.name) ?? ['cpu'];
    backend = new OrtBackend('onnxruntime-node', ort as unknown as OrtModule, listed);
  }
  return backend;
}
