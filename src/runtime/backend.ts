/**
 * The inference backend interface: the core asks a backend for sessions and never imports
 * onnxruntime itself, so Node (onnxruntime-node) and the browser (onnxruntime-web) plug in alike.
 */
import type { Tensor } from '../onnx/tensor.js';

/** Intra-op thread waiting, see {@link SessionOptions.spinning}. */
export type Spinning = 'within-run' | 'always' | 'never';
export const SPINNING: readonly Spinning[] = ['within-run', 'always', 'never'];

export interface SessionOptions {
  /** Intra-op threads (default: the backend's choice). */
  threads?: number;
  /** Execution providers in order of preference, e.g. ['cuda', 'cpu'] or ['webgpu', 'wasm']. */
  executionProviders?: string[];
  /** onnxruntime graph optimisation level (default 'all'). */
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * How onnxruntime's intra-op worker threads wait for work: 'never' (convlens's default) sleeps
   * between operators; 'within-run' spins between the operators of one run and stops when the run
   * returns, so a session never starves the next session's threads; 'always' keeps spinning after a
   * run (onnxruntime's own default). Measured per kind of call by `npm run bench:threading`:
   * 'within-run' pays on 224 px networks at batch 1 and costs up to 2× on sub-millisecond runs.
   */
  spinning?: Spinning;
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
