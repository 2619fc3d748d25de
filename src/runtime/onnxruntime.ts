/**
 * An InferenceBackend over any onnxruntime JavaScript binding (onnxruntime-node, onnxruntime-web):
 * both share onnxruntime-common's API, so only the module differs.
 */
import type { DType, Tensor, TensorData } from '../onnx/tensor.js';
import {
  type InferenceBackend,
  type InferenceSession,
  type SessionOptions,
  SPINNING,
  type Spinning,
} from './backend.js';

/** The part of onnxruntime-common's API convlens uses. */
export interface OrtModule {
  InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;
  listSupportedBackends?: () => { name: string }[];
}
interface OrtTensor {
  type: string;
  dims: readonly number[];
  data: unknown;
}
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

const ORT_TYPE: Record<DType, string> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int8: 'int8',
  uint8: 'uint8',
  int16: 'int16',
  uint16: 'uint16',
  int32: 'int32',
  uint32: 'uint32',
  int64: 'int64',
  uint64: 'uint64',
  bool: 'bool',
};
const FROM_ORT = new Map(Object.entries(ORT_TYPE).map(([k, v]) => [v, k as DType]));

/** What each accelerator needs, for the error when it cannot start. */
const PROVIDER_NEEDS: Record<string, string> = {
  cuda: "an NVIDIA GPU with CUDA 12 and onnxruntime-node's CUDA libraries, which its install script fetches with ONNXRUNTIME_NODE_INSTALL=cuda12 (a convlens checkout skips them in its .npmrc)",
  tensorrt: 'TensorRT and the CUDA libraries beside onnxruntime-node',
  webgpu: 'a GPU adapter that WebGPU accepts (Vulkan on Linux, Metal on macOS, D3D12 on Windows)',
  webnn: 'a browser with WebNN',
};

/**
 * onnxruntime's session config for `spinning`: `force_spinning_stop` ends the spin when the last
 * concurrent run returns, so idle threads of one session do not busy-wait through the next
 * session's run (convlens alternates sessions: forward, then gradient).
 */
function spinningConfig(spinning: Spinning): Record<string, unknown> {
  if (!SPINNING.includes(spinning)) {
    throw new Error(`spinning must be one of ${SPINNING.join(', ')}; got ${JSON.stringify(spinning)}`);
  }
  return {
    intra_op: { allow_spinning: spinning === 'never' || spinning === 'auto' ? '0' : '1' },
    ...(spinning === 'within-run' ? { force_spinning_stop: '1' } : {}),
  };
}

export class OrtBackend implements InferenceBackend {
  readonly availableProviders: readonly string[];

  constructor(
    readonly name: string,
    private readonly ort: OrtModule,
    providers: readonly string[],
    /** Intra-op threads of sessions that do not ask for a number (default: onnxruntime's, all cores). */
    private readonly defaultThreads?: number,
  ) {
    this.availableProviders = providers;
  }

  async createSession(model: Uint8Array, options: SessionOptions = {}): Promise<InferenceSession> {
    const providers = options.executionProviders ?? [this.availableProviders[0] ?? 'cpu'];
    for (const p of providers) {
      if (!this.availableProviders.includes(p)) {
        throw new Error(
          `execution provider "${p}" is not available in ${this.name}; available: ${this.availableProviders.join(', ')}`,
        );
      }
    }
    const accelerators = providers.filter((p) => p !== 'cpu' && p !== 'wasm');
    const threads = options.threads ?? this.defaultThreads;
    let session: OrtSession;
    try {
      session = await this.ort.InferenceSession.create(model, {
        executionProviders: providers,
        graphOptimizationLevel: options.graphOptimization ?? 'all',
        ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
        extra: { session: spinningConfig(options.spinning ?? 'auto') },
      });
    } catch (err) {
      if (accelerators.length === 0) throw err;
      const cause = String((err as Error).message ?? err).split('\n')[0];
      throw new Error(
        `execution provider ${accelerators.map((p) => `"${p}"`).join(', ')} could not start in ${this.name}: ${cause}` +
          accelerators.map((p) => (PROVIDER_NEEDS[p] ? ` (${p} needs ${PROVIDER_NEEDS[p]})` : '')).join(''),
      );
    }
    const ort = this.ort;
    return {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      async run(feeds, outputs) {
        const ortFeeds: Record<string, OrtTensor> = {};
        for (const [k, t] of Object.entries(feeds)) {
          const data = t.dtype === 'bool' ? new Uint8Array(t.data as Uint8Array) : t.data;
          ortFeeds[k] = new ort.Tensor(ORT_TYPE[t.dtype], data, t.dims);
        }
        const result = await session.run(ortFeeds, outputs ?? session.outputNames);
        const out: Record<string, Tensor> = {};
        for (const [k, t] of Object.entries(result)) {
          const dtype = FROM_ORT.get(t.type);
          if (!dtype) throw new Error(`output "${k}" has type ${t.type}, which convlens does not read`);
          const data =
            dtype === 'bool' ? Uint8Array.from(t.data as ArrayLike<number>) : (t.data as TensorData);
          out[k] = { dtype, dims: [...t.dims], data };
        }
        return out;
      },
      release: () => session.release(),
    };
  }
}
