/**
 * The inference backend interface: the core asks a backend for sessions and never imports
 * onnxruntime itself, so Node (onnxruntime-node) and the browser (onnxruntime-web) plug in alike.
 */
import type { Tensor } from '../onnx/tensor.js';

export interface SessionOptions {
  /** Intra-op threads (default: the backend's choice). */
  threads?: number;
  /** Execution providers in order of preference, e.g. ['cuda', 'cpu'] or ['webgpu', 'wasm']. */
  executionProviders?: string[];
  /** onnxruntime graph optimisation level (default 'all'). */
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Let idle worker threads spin (onnxruntime's default); convlens turns it off because it alternates sessions. */
  spinning?: boolean;
}

export interface InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Run with the given feeds; fetch `outputs` (default: all graph outputs). */
  run(feeds: Record<string, Tensor>, outputs?: readonly string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

export interface InferenceBackend {
  readonly name: string;
  /** Execution providers this build can use (e.g. ['cpu'] or ['cpu', 'cuda']). */
  readonly availableProviders: readonly string[];
  createSession(model: Uint8Array, options?: SessionOptions): Promise<InferenceSession>;
}
