/**
 * The public model handle: forward runs with any intermediate tensor fetched, and gradients of
 * any seeded objective, with static graphs, sessions and compiled gradient graphs cached per
 * input shape and request.
 */
import { buildGradientGraph, type GradientSpec, gradName, seedName } from '../autodiff/engine.js';
import type { ReluRule } from '../autodiff/rule.js';
import { backwardMultiplyAccumulates, forwardMultiplyAccumulates } from '../onnx/cost.js';
import { nearestNames, tensorNames, topologicalOrder } from '../onnx/graph.js';
import { cloneModel, encodeModel, type Model } from '../onnx/model.js';
import { makeStatic, pruneDeadNodes, type StaticModel } from '../onnx/static.js';
import type { DType, Tensor } from '../onnx/tensor.js';
import {
  autoSpinning,
  type InferenceBackend,
  type InferenceSession,
  type SessionOptions,
  type Spinning,
} from './backend.js';

/** A tensor a user can target: a graph input or a node output. */
export interface LayerInfo {
  tensor: string;
  /** Producing node (absent for graph inputs). */
  node?: string;
  opType: string;
  dtype: DType;
  shape: number[];
}

export interface ObjectiveWeights {
  tensor: string;
  /**
   * Weights with the tensor's shape (see classSeed, channelSeed, onesSeed), or 'argmax': per row,
   * one-hot at the tensor's largest entry, computed in the same run (the top-1 class of logits).
   */
  weights: Tensor | 'argmax';
  power?: 1 | 2;
}

export interface GradientRequest {
  objective: ObjectiveWeights[];
  /** Tensors to differentiate with respect to (default: the model's first input). */
  wrt?: string[];
  /** Forward tensors to return too (default: the model's outputs). */
  outputs?: string[];
  reluRule?: ReluRule;
}

export interface GradientResult {
  outputs: Record<string, Tensor>;
  gradients: Record<string, Tensor>;
}

type Feeds = Tensor | Record<string, Tensor>;

/** A session's graph and how its threads wait. */
interface SessionPlan {
  bytes: Uint8Array;
  spinning: Spinning;
}

/** Sessions a model keeps open by default before it releases the least recently used. */
export const MAX_SESSIONS = 32;

export class ConvlensModel {
  private readonly statics = new Map<string, Promise<StaticModel>>();
  /** Open sessions, least recently used first. */
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  /** Runs in progress per session key: such a session is never released. */
  private readonly running = new Map<string, number>();
  private readonly derivedModels = new Map<string, ConvlensModel>();
  /** Multiply-accumulates of one sample's forward pass, per input shape and outputs. */
  private readonly forwardCosts = new Map<string, Promise<number>>();

  /**
   * `maxSessions` bounds the open onnxruntime sessions (one per graph kind and input shape, e.g.
   * per batch size of a gradient graph): past it the least recently used idle one is released,
   * so a long-lived model explaining batches of many sizes does not grow without end.
   */
  constructor(
    readonly model: Model,
    readonly backend: InferenceBackend,
    readonly sessionOptions: SessionOptions = {},
    readonly maxSessions = MAX_SESSIONS,
  ) {
    if (!Number.isInteger(maxSessions) || maxSessions < 1)
      throw new Error(`maxSessions must be a positive integer, got ${maxSessions}`);
  }

  get inputNames(): string[] {
    return this.model.graph.inputs.map((i) => i.name);
  }

  get outputNames(): string[] {
    return this.model.graph.outputs.map((o) => o.name);
  }

  /** The model made static for these input shapes (cached). */
  prepare(shapes: Record<string, number[]>): Promise<StaticModel> {
    const key = JSON.stringify(shapes);
    let s = this.statics.get(key);
    if (!s) {
      s = makeStatic(this.model, shapes, this.backend);
      s.catch(() => this.statics.delete(key));
      this.statics.set(key, s);
    }
    return s;
  }

  /**
   * Every targetable tensor in topological order with its shape for the given input shape
   * (default: the model's declared input shape, batch 1 where symbolic).
   */
  async layers(inputShape?: number[]): Promise<LayerInfo[]> {
    const shape = inputShape ?? this.declaredShape();
    const s = await this.prepare({ [this.inputNames[0]]: shape });
    const out: LayerInfo[] = this.model.graph.inputs.map((i) => ({
      tensor: i.name,
      opType: 'Input',
      dtype: s.types.get(i.name)!.dtype,
      shape: s.types.get(i.name)!.dims,
    }));
    // Nodes of the original graph, so folded shape arithmetic is listed too.
    for (const n of topologicalOrder(this.model.graph)) {
      for (const o of n.outputs) {
        const t = s.types.get(o);
        if (o && t) out.push({ tensor: o, node: n.name, opType: n.opType, dtype: t.dtype, shape: t.dims });
      }
    }
    return out;
  }

  /** The declared shape of the first input with symbolic batch set to 1; throws when spatial sizes are unknown. */
  declaredShape(): number[] {
    const input = this.model.graph.inputs[0];
    const dims = input.shape ?? [];
    return dims.map((d, i) => {
      if (typeof d === 'number') return d;
      if (i === 0) return 1;
      throw new Error(
        `input "${input.name}" has dynamic size on axis ${i} ("${d ?? '?'}"); give an input size (e.g. --size 224,224)`,
      );
    });
  }

  /** Run the forward pass, fetching the model outputs or any intermediate tensors. */
  async run(input: Feeds, options: { outputs?: string[] } = {}): Promise<Record<string, Tensor>> {
    const feeds = this.feeds(input);
    const outputs = options.outputs ?? this.outputNames;
    this.checkTensors(outputs);
    const spinning = await this.forwardSpinning(feeds, outputs);
    const key = `forward|${spinning}|${JSON.stringify(outputs)}`;
    // onnxruntime runs every node of a graph, needed or not: drop those the outputs do not need.
    return this.runSession(
      key,
      async () => {
        const m = cloneModel(this.model);
        m.graph.outputs = outputs.map((name) => m.graph.outputs.find((o) => o.name === name) ?? { name });
        pruneDeadNodes(m);
        return { bytes: encodeModel(m).bytes, spinning };
      },
      feeds,
      outputs,
    );
  }

  /**
   * How the threads of a forward run wait: the chosen mode, or for 'auto' the mode that fits the
   * run's multiply-accumulates, counted once per sample shape (a symbolic batch scales them).
   */
  private async forwardSpinning(feeds: Record<string, Tensor>, outputs: string[]): Promise<Spinning> {
    const chosen = this.sessionOptions.spinning ?? 'auto';
    if (chosen !== 'auto') return chosen;
    const leading = new Set(Object.values(feeds).map((t) => t.dims[0]));
    const symbolicBatch = this.model.graph.inputs.every((i) => typeof i.shape?.[0] !== 'number');
    const batch = symbolicBatch && leading.size === 1 ? (Object.values(feeds)[0].dims[0] ?? 1) : 1;
    const shapes = Object.fromEntries(
      Object.entries(feeds).map(([k, t]) => [k, batch > 1 ? [1, ...t.dims.slice(1)] : t.dims]),
    );
    const key = `${JSON.stringify(shapes)}|${JSON.stringify(outputs)}`;
    let macs = this.forwardCosts.get(key);
    if (!macs) {
      // A model that cannot be made static runs anyway (its error comes from the run itself), sleeping.
      macs = this.prepare(shapes).then(
        (s) => forwardMultiplyAccumulates(s, outputs),
        () => 0,
      );
      this.forwardCosts.set(key, macs);
    }
    return autoSpinning((await macs) * batch);
  }

  /**
   * Gradients of Σ_terms Σ_i w_i · t_i^power with respect to `wrt`, plus the forward outputs.
   *
   * @example
   * ```ts
   * const m = await loadModel('resnet18.onnx');
   * const x = float32(pixels, [1, 3, 224, 224]);
   * const { gradients } = await m.gradients(x, {
   *   objective: [{ tensor: 'logits', weights: classSeed([1, 1000], 281) }],
   * });
   * const saliency = gradients['input']; // d logit[281] / d input
   * ```
   */
  async gradients(input: Feeds, request: GradientRequest): Promise<GradientResult> {
    const feeds = this.feeds(input);
    const shapes = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dims]));
    const wrt = request.wrt ?? [this.inputNames[0]];
    const outputs = request.outputs ?? this.outputNames;
    const spec: GradientSpec = {
      objective: request.objective.map((o) => ({
        tensor: o.tensor,
        weights: o.weights === 'argmax' ? 'argmax' : 'feed',
        power: o.power ?? 1,
      })),
      wrt,
      outputs,
      reluRule: request.reluRule ?? 'vanilla',
    };
    const s = await this.prepare(shapes);
    const seedFeeds: Record<string, Tensor> = {};
    for (const o of request.objective) {
      if (o.weights === 'argmax') continue;
      // Unknown tensors are reported by buildGradientGraph, with the nearest names.
      const dims = s.types.get(o.tensor)?.dims;
      if (dims && (o.weights.dims.length !== dims.length || o.weights.dims.some((d, i) => d !== dims[i]))) {
        throw new Error(
          `objective "${o.tensor}": weights have shape [${o.weights.dims}], the tensor has [${dims}]`,
        );
      }
      seedFeeds[seedName(o.tensor)] = o.weights;
    }
    const key = `grad|${JSON.stringify(shapes)}|${JSON.stringify(spec)}`;
    const chosen = this.sessionOptions.spinning ?? 'auto';
    const result = await this.runSession(
      key,
      async () => {
        const objective = spec.objective.map((o) => o.tensor);
        const spinning =
          chosen === 'auto'
            ? autoSpinning(
                forwardMultiplyAccumulates(s, [...objective, ...outputs]) +
                  backwardMultiplyAccumulates(s, wrt, objective),
              )
            : chosen;
        return { bytes: encodeModel(buildGradientGraph(s, spec)).bytes, spinning };
      },
      { ...feeds, ...seedFeeds },
      [...outputs, ...wrt.map(gradName)],
    );
    const gradients: Record<string, Tensor> = {};
    for (const w of wrt) {
      const g = result[gradName(w)];
      const data = g.data as Float32Array;
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i]))
          throw new Error(`gradient of "${w}" has a non-finite value at flat index ${i}`);
      }
      gradients[w] = g;
    }
    return { outputs: Object.fromEntries(outputs.map((o) => [o, result[o]])), gradients };
  }

  /**
   * A model rewritten from this one (e.g. with a prefix graph before its input), built once per
   * `key` with the same backend and session options; released with this model.
   *
   * @example
   * ```ts
   * const masked = m.derived('score-cam|64,64|16,16', (g) => withScoreCamMasks(g, [64, 64], [16, 16]));
   * await masked.run({ [SCORE_CAM_IMAGE]: image, [SCORE_CAM_MAPS]: maps }, { outputs: ['logits'] });
   * ```
   */
  derived(key: string, rewrite: (model: Model) => Model): ConvlensModel {
    let d = this.derivedModels.get(key);
    if (!d) {
      d = new ConvlensModel(rewrite(this.model), this.backend, this.sessionOptions);
      this.derivedModels.set(key, d);
    }
    return d;
  }

  /** onnxruntime sessions this model holds open, derived models' included (one per graph kind and input shape). */
  get sessionCount(): number {
    let n = this.sessions.size;
    for (const d of this.derivedModels.values()) n += d.sessionCount;
    return n;
  }

  /** Release every cached session, derived models' included. */
  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    const derived = [...this.derivedModels.values()];
    this.sessions.clear();
    this.statics.clear();
    this.forwardCosts.clear();
    this.derivedModels.clear();
    await Promise.all([...all.map(async (s) => (await s).release()), ...derived.map((d) => d.release())]);
  }

  /** Run the session `key` (built on first use), marked busy so that it is not released meanwhile. */
  private async runSession(
    key: string,
    build: () => Promise<SessionPlan>,
    feeds: Record<string, Tensor>,
    outputs: string[],
  ): Promise<Record<string, Tensor>> {
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    try {
      return await (await this.session(key, build)).run(feeds, outputs);
    } finally {
      const n = (this.running.get(key) ?? 1) - 1;
      if (n === 0) this.running.delete(key);
      else this.running.set(key, n);
    }
  }

  private session(key: string, build: () => Promise<SessionPlan>): Promise<InferenceSession> {
    let s = this.sessions.get(key);
    if (s) {
      // Most recently used last.
      this.sessions.delete(key);
      this.sessions.set(key, s);
      return s;
    }
    s = build().then(({ bytes, spinning }) =>
      this.backend.createSession(bytes, { ...this.sessionOptions, spinning }).catch((e: Error) => {
        throw new Error(`onnxruntime cannot load ${this.model.source ?? 'the model'}: ${e.message}`);
      }),
    );
    s.catch(() => this.sessions.delete(key));
    this.sessions.set(key, s);
    this.evict();
    return s;
  }

  /** Release the least recently used idle sessions past `maxSessions` (and static models and run sizes past it). */
  private evict(): void {
    for (const [key, s] of this.sessions) {
      if (this.sessions.size <= this.maxSessions) break;
      if (this.running.has(key)) continue;
      this.sessions.delete(key);
      s.then((session) => session.release()).catch(() => undefined);
    }
    for (const key of this.statics.keys()) {
      if (this.statics.size <= this.maxSessions) break;
      this.statics.delete(key);
    }
    for (const key of this.forwardCosts.keys()) {
      if (this.forwardCosts.size <= this.maxSessions) break;
      this.forwardCosts.delete(key);
    }
  }

  private feeds(input: Feeds): Record<string, Tensor> {
    const feeds =
      'dtype' in input && 'dims' in input
        ? { [this.inputNames[0]]: input as Tensor }
        : (input as Record<string, Tensor>);
    for (const name of this.inputNames) {
      if (!feeds[name])
        throw new Error(`missing input "${name}"; the model takes ${this.inputNames.join(', ')}`);
    }
    return feeds;
  }

  private checkTensors(names: string[]): void {
    const all = tensorNames(this.model.graph);
    const known = new Set(all);
    for (const n of names) {
      if (!known.has(n))
        throw new Error(`tensor "${n}" not found; nearest: ${nearestNames(n, all).join(', ')}`);
    }
  }
}
