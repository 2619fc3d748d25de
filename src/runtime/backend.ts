/**
 * The inference backend interface: the core asks a backend for sessions and never imports
 * onnxruntime itself, so Node (onnxruntime-node) and the browser (onnxruntime-web) plug in alike.
 */
import type { Tensor } from '../onnx/tensor.js';

/** Intra-op thread waiting, see {@link SessionOptions.spinning}. */
export type Spinning = 'auto' | 'within-run' | 'always' | 'never';
export const SPINNING: readonly Spinning[] = ['auto', 'within-run', 'always', 'never'];

/**
 * The work per run (multiply-accumulates of its convolutions and matrix products) from which
 * 'auto' spins within a run: 0.5 G, between a 224 px MobileNetV2 forward pass (0.30 G, faster
 * sleeping) and its input gradient (0.60 G, faster spinning); see docs/benchmarks.md, "Thread
 * waiting per kind of call".
 */
export const SPIN_WITHIN_RUN_FROM = 5e8;

/** What 'auto' resolves to for a run of `macs` multiply-accumulates. */
export function autoSpinning(macs: number): 'within-run' | 'never' {
  return macs >= SPIN_WITHIN_RUN_FROM ? 'within-run' : 'never';
}

export interface SessionOptions {
  /** Intra-op threads (default: the backend's choice). */
  threads?: number;
  /** Execution providers in order of preference, e.g. ['cuda', 'cpu'] or ['webgpu', 'wasm']. */
  executionProviders?: string[];
  /** onnxruntime graph optimisation level (default 'all'). */
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * How onnxruntime's intra-op worker threads wait for work: 'never' sleeps between operators;
   * 'within-run' spins between the operators of one run and stops when the run returns, so a
   * session never starves the next session's threads; 'always' keeps spinning after a run
   * (onnxruntime's own default); 'auto' (convlens's default) lets a ConvlensModel choose per graph
   * and input shape: 'within-run' from {@link SPIN_WITHIN_RUN_FROM} multiply-accumulates per run,
   * else 'never' (a session made directly from a backend has no size to go by and sleeps).
   * Measured per kind of call by `npm run bench:threading`: 'within-run' pays on 224 px networks
   * at batch 1 and costs up to 2× on runs of a few milliseconds.
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
