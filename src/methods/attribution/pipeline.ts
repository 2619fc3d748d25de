/**
 * The shared attribution pipeline: one forward pass finds the prediction, targets are bound to the
 * batch, and every method asks for batched forward or gradient passes over "rows" (copies of the
 * samples: noisy, interpolated, occluded, masked), chunked to a fixed batch size so one compiled
 * session serves every chunk. Methods (one file each) are strategies on top; none renders.
 */
import { reluRuleMatters } from '../../autodiff/engine.js';
import type { ReluRule } from '../../autodiff/rule.js';
import { indexSeed } from '../../maths/random.js';
import { ancestors, nearestNames } from '../../onnx/graph.js';
import { elementCount, type Tensor } from '../../onnx/tensor.js';
import type { ConvlensModel, LayerInfo } from '../../runtime/model.js';
import { featureMapsOf, notAFeatureMap } from './featureMaps.js';
import { memberResult, requestKey, shareRuns } from './sharedRuns.js';
import { type BoundTarget, bindTarget, objectiveValues, type Target } from './target.js';

/** A raw attribution map with what made it. */
export interface AttributionMap {
  method: string;
  /** 'input': signed attribution with the input's shape [N, C, H, W]; 'layer': [N, 1, h, w] at the layer's resolution (after ReLU). */
  resolution: 'input' | 'layer';
  dims: number[];
  data: Float32Array;
  /** The feature map used (CAM family and Score-CAM). */
  layer?: string;
  target: { tensor: string; labels: string[]; classes?: number[] };
  /** The parameters as used: requested values with every default resolved (window sizes, baseline kinds). */
  params: Record<string, unknown>;
  /** Resolved parameters with one value per sample (see paramsOf). */
  sampleParams?: Record<string, number[]>;
  /** Per-sample numbers a method reports, e.g. Integrated Gradients' completeness delta. */
  diagnostics?: Record<string, number[]>;
  ms: number;
}

export interface ExplainerOptions {
  /** The classifier tensor (default: the model's first output). */
  logits?: string;
  /** Class names, for labels and class-name targets. */
  classes?: readonly string[];
  /** The card's feature map, preferred when choosing a layer automatically. */
  features?: string;
  /** Rows per forward/backward pass (default 32). */
  batch?: number;
  /** Seed for every random choice (SmoothGrad noise). */
  seed?: number;
  /**
   * The index of the input's first sample in a larger batch (default 0). Random streams are drawn
   * per sample from the seed and the sample's index in that batch, so a shard of it draws the same
   * numbers as the whole batch does.
   */
  firstSample?: number;
  onProgress?: (p: { method: string; done: number; total: number }) => void;
  /** Told each warning as it arises (default: console.warn); all are kept in `warnings` too. */
  onWarning?: (message: string) => void;
}

/** Which gradients and forward tensors a row-batched gradient pass returns, under which ReLU rule. */
export interface GradientRowsRequest {
  wrt: string[];
  outputs?: string[];
  reluRule?: ReluRule;
}

/** Each `wrt` tensor's gradient and each requested output, concatenated over rows. */
export interface RowGradients {
  gradients: Record<string, Float32Array>;
  outputs: Record<string, Float32Array>;
}

/** What a method's strategy receives. */
export interface MethodRun {
  explainer: Explainer;
  target: BoundTarget;
  /** The resolved feature map, for methods that need one. */
  layer?: string;
  /** The batch being explained, [N, C, H, W]. */
  input: Tensor;
  progress(done: number, total: number): void;
}

/** Fills row r of a batch (its input values) at `offset` of `out`. */
export type RowSource = (row: number, out: Float32Array, offset: number) => void;

/** One float32 input of a model run in rows: its name, the dims of one row, and what fills a row. */
export interface RowFeed {
  name: string;
  dims: number[];
  fill: RowSource;
}

export class Explainer {
  readonly logits: string;
  readonly classes: readonly string[];
  readonly batch: number;
  readonly seed: number;
  readonly firstSample: number;
  readonly inputName: string;
  /** Warnings raised while explaining, e.g. a requested layer that is not a feature map. */
  readonly warnings: string[] = [];
  private layerList?: LayerInfo[];
  private readonly forwardCache = new Map<string, Promise<Tensor>>();
  /** Gradients over the samples, per target and request (see sampleGradients). */
  private readonly gradientCache = new WeakMap<BoundTarget, Map<string, Promise<RowGradients>>>();
  /** Free row buffers by length (see acquireRows). */
  private readonly rowPool = new Map<number, Float32Array[]>();
  /** The samples themselves as rows: run as the input tensor when they fit one chunk (see chunks). */
  private readonly samples: RowSource;

  constructor(
    readonly model: ConvlensModel,
    readonly input: Tensor,
    readonly options: ExplainerOptions = {},
  ) {
    if (input.dtype !== 'float32' || input.dims.length !== 4)
      throw new Error(
        `input must be a float32 [N, C, H, W] tensor, got ${input.dtype} [${input.dims.join(', ')}]`,
      );
    this.logits = options.logits ?? model.outputNames[0];
    this.classes = options.classes ?? [];
    this.batch = options.batch ?? 32;
    if (!Number.isInteger(this.batch) || this.batch < 1)
      throw new Error(`batch must be a positive integer, got ${this.batch}`);
    this.seed = options.seed ?? 0;
    this.firstSample = options.firstSample ?? 0;
    if (!Number.isInteger(this.firstSample) || this.firstSample < 0)
      throw new Error(`firstSample must be an integer ≥ 0, got ${this.firstSample}`);
    this.inputName = model.inputNames[0];
    this.samples = this.copyOf(input, (i) => i);
  }

  /** The seed of sample i's random stream: `seed` (default the explainer's) hashed with the sample's index in the whole batch. */
  sampleSeed(i: number, seed = this.seed): number {
    return indexSeed(seed, this.firstSample + i);
  }

  get n(): number {
    return this.input.dims[0];
  }

  /** Elements of one input row (C·H·W). */
  get rowSize(): number {
    return elementCount(this.input.dims.slice(1));
  }

  /** Every targetable tensor with its shape at batch 1. */
  async layers(): Promise<LayerInfo[]> {
    this.layerList ??= await this.model.layers([1, ...this.input.dims.slice(1)]);
    return this.layerList;
  }

  /** Per-sample shape of a tensor; throws naming the nearest tensors when unknown. */
  async sampleDims(tensor: string): Promise<number[]> {
    const layers = await this.layers();
    const l = layers.find((x) => x.tensor === tensor);
    if (!l)
      throw new Error(
        `tensor "${tensor}" not found; nearest: ${nearestNames(
          tensor,
          layers.map((x) => x.tensor),
        ).join(', ')}`,
      );
    return l.shape.slice(1);
  }

  /**
   * A tensor of the forward pass of `input` (default: the explainer's batch, cached per tensor so
   * methods sharing a layer run it once; other inputs, such as SmoothGrad's noisy copies, are not cached).
   */
  activations(tensor: string, input: Tensor = this.input): Promise<Tensor> {
    if (input !== this.input) return this.model.run(input, { outputs: [tensor] }).then((r) => r[tensor]);
    let t = this.forwardCache.get(tensor);
    if (!t) {
      t = this.model.run(this.input, { outputs: [tensor] }).then((r) => r[tensor]);
      t.catch(() => this.forwardCache.delete(tensor));
      this.forwardCache.set(tensor, t);
    }
    return t;
  }

  /** Fetch several tensors of the batch's forward pass in one run into the cache `activations` reads. */
  prefetch(tensors: string[]): Promise<void> {
    const missing = [...new Set(tensors)].filter((t) => !this.forwardCache.has(t));
    if (missing.length === 0) return Promise.resolve();
    const run = this.model.run(this.input, { outputs: missing });
    for (const t of missing) {
      const one = run.then((r) => r[t]);
      one.catch(() => this.forwardCache.delete(t));
      this.forwardCache.set(t, one);
    }
    return run.then(() => undefined);
  }

  /** The logits of the batch. */
  logitValues(): Promise<Tensor> {
    return this.activations(this.logits);
  }

  /** Top-1 class per sample. */
  async predicted(): Promise<number[]> {
    const t = await this.logitValues();
    const k = t.dims[t.dims.length - 1];
    const d = t.data as Float32Array;
    return Array.from({ length: this.n }, (_, i) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (d[i * k + c] > d[i * k + best]) best = c;
      return best;
    });
  }

  /** Bind a target to the batch; only the 'top' target runs the forward pass that finds the prediction. */
  async bind(target: Target): Promise<BoundTarget> {
    const layers = await this.layers();
    const predicted = target.kind === 'top' ? await this.predicted() : undefined;
    const dimsOf = (tensor: string) => {
      const l = layers.find((x) => x.tensor === tensor);
      if (!l)
        throw new Error(
          `target tensor "${tensor}" not found; nearest: ${nearestNames(
            tensor,
            layers.map((x) => x.tensor),
          ).join(', ')}`,
        );
      return l.shape;
    };
    return bindTarget(target, { n: this.n, logits: this.logits, classes: this.classes, predicted, dimsOf });
  }

  /**
   * Bind a target as `bind` does, except that a 'top' target whose prediction is not known yet is
   * left deferred: the first gradient run over the samples chooses each row's top class in the
   * graph (ArgMax → one-hot seed) and returns the logits, so explaining the prediction costs no
   * separate forward pass. Call `resolve` before using a deferred target's classes or weights.
   */
  async bindLazily(target: Target): Promise<BoundTarget> {
    const logitDims = (await this.layers()).find((l) => l.tensor === this.logits)?.shape;
    if (target.kind !== 'top' || this.forwardCache.has(this.logits) || logitDims?.length !== 2)
      return this.bind(target);
    const unresolved = () => {
      throw new Error('the top target was used before the prediction was known (call resolve first)');
    };
    return {
      tensor: this.logits,
      sampleDims: logitDims.slice(1),
      labels: [],
      weights: unresolved,
      deferredTop: true,
    };
  }

  /** Fill in a deferred 'top' target's classes from the batch's prediction (one forward pass when not yet known). */
  async resolve(target: BoundTarget): Promise<BoundTarget> {
    if (target.deferredTop) Object.assign(target, await this.bind({ kind: 'top' }), { deferredTop: false });
    return target;
  }

  /**
   * Gradients over the samples themselves (row i = sample i), cached per target and request, so
   * methods that need the same gradient (Grad-CAM, Grad-CAM++, Layer-CAM, the counterfactual;
   * guided backprop and guided Grad-CAM) share one run. A deferred 'top' target is resolved by it.
   */
  sampleGradients(
    target: BoundTarget,
    request: GradientRowsRequest,
    progress?: (done: number, total: number) => void,
  ): Promise<RowGradients> {
    const key = requestKey(request);
    const cache = this.gradientCacheOf(target);
    let r = cache.get(key);
    if (!r) {
      r = target.deferredTop
        ? this.gradientsChoosingTop(target, request, progress)
        : this.gradientRows(this.n, this.samples, (i) => i, target, request, progress);
      r.then(
        (g) => this.keepForward(g.outputs),
        () => cache.delete(key),
      );
      cache.set(key, r);
    } else progress?.(this.n, this.n);
    return r;
  }

  /**
   * Run the gradients over the samples that several methods ask for as few runs (see shareRuns: one
   * per ReLU rule, a gradient the rule cannot change joining another rule's run); each request is
   * then served by `sampleGradients` from the shared run. Runs that serve one request are left to it.
   */
  async shareSampleGradients(target: BoundTarget, requests: readonly GradientRowsRequest[]): Promise<void> {
    const graph = this.model.model.graph;
    const runs = shareRuns(requests, (r) => !reluRuleMatters(graph, r.wrt, [target.tensor]));
    const cache = this.gradientCacheOf(target);
    const shared = runs.filter((s) => s.members.length > 1);
    for (const s of shared) {
      const all = this.sampleGradients(target, s.request);
      for (const m of s.members)
        if (!cache.has(requestKey(m)))
          cache.set(
            requestKey(m),
            all.then((g) => memberResult(g, m)),
          );
    }
    await Promise.all(shared.map((s) => this.sampleGradients(target, s.request)));
  }

  private gradientCacheOf(target: BoundTarget): Map<string, Promise<RowGradients>> {
    const cache = this.gradientCache.get(target) ?? new Map<string, Promise<RowGradients>>();
    this.gradientCache.set(target, cache);
    return cache;
  }

  /** Forward tensors of the batch that a gradient run over the samples returned, for `activations` to read. */
  private keepForward(outputs: Record<string, Float32Array>): void {
    for (const [name, data] of Object.entries(outputs)) {
      const shape = this.layerList?.find((l) => l.tensor === name)?.shape;
      if (this.forwardCache.has(name) || !shape) continue;
      this.forwardCache.set(
        name,
        Promise.resolve({ dtype: 'float32', dims: [this.n, ...shape.slice(1)], data }),
      );
    }
  }

  /**
   * Gradients over the rows of `input`, a batch of the explainer's shape whose row i explains sample
   * i: the explainer's own batch goes through `sampleGradients` (shared, top chosen in the run),
   * another (SmoothGrad's noisy copies) through `gradientRows`.
   */
  batchGradients(
    input: Tensor,
    target: BoundTarget,
    request: GradientRowsRequest,
    progress?: (done: number, total: number) => void,
  ): Promise<RowGradients> {
    if (input === this.input) return this.sampleGradients(target, request, progress);
    const copy = this.copyOf(input, (i) => i);
    return this.gradientRows(input.dims[0], copy, (i) => i, target, request, progress);
  }

  /**
   * Feature maps [1, C, h, w] the logits depend on, in topological order: axes laid out by the
   * convolutions and pools (channel axis 1), h and w ≥ 2 (see featureMapsOf).
   */
  async featureMaps(): Promise<LayerInfo[]> {
    const upstream = ancestors(this.model.model.graph, [this.logits]);
    return featureMapsOf(this.model.model, await this.layers()).filter((l) => upstream.has(l.tensor));
  }

  /**
   * The feature map to explain at: `requested` when given (a 4-D tensor that is not a feature map
   * is used with a warning), else the card's feature map, else the last feature map before the head.
   */
  async resolveLayer(requested?: string): Promise<string> {
    const maps = await this.featureMaps();
    if (requested !== undefined) {
      if (maps.some((l) => l.tensor === requested)) return requested;
      const layers = await this.layers();
      const info = layers.find((l) => l.tensor === requested);
      const names = maps.map((l) => l.tensor);
      const nearest = nearestNames(requested, names, 5).join(', ') || 'none';
      if (!info) throw new Error(`layer "${requested}" not found; feature maps, nearest first: ${nearest}`);
      if (info.shape.length !== 4 || info.opType === 'Input')
        throw new Error(`${notAFeatureMap(info)}; nearest feature maps: ${nearest}`);
      if (!ancestors(this.model.model.graph, [this.logits]).has(requested))
        throw new Error(
          `layer "${requested}" does not reach "${this.logits}", so it says nothing of the decision; feature maps: ${nearest}`,
        );
      this.warn(`${notAFeatureMap(info)}: read as [N, C, H, W] anyway; feature maps near it: ${nearest}`);
      return requested;
    }
    const card = this.options.features;
    if (card && maps.some((l) => l.tensor === card)) return card;
    const last = maps[maps.length - 1];
    if (!last)
      throw new Error(`the model has no feature map [N, C, H, W] (H, W ≥ 2) before "${this.logits}"`);
    return last.tensor;
  }

  /** Record a warning and tell onWarning. */
  warn(message: string): void {
    if (this.warnings.includes(message)) return;
    this.warnings.push(message);
    (this.options.onWarning ?? ((m: string) => console.warn(`warning: ${m}`)))(message);
  }

  /**
   * Gradients of the bound objective over `rows` rows (row r is a copy of sample sampleOf(r),
   * filled by `fill`), in chunks of `batch`. Returns each `wrt` tensor's gradient and each
   * requested output, concatenated over rows. A deferred 'top' target is resolved first.
   */
  async gradientRows(
    rows: number,
    fill: RowSource,
    sampleOf: (row: number) => number,
    target: BoundTarget,
    request: GradientRowsRequest,
    progress?: (done: number, total: number) => void,
  ): Promise<RowGradients> {
    await this.resolve(target);
    return this.gradientPasses(rows, fill, target.tensor, request, progress, (start, count, size) =>
      target.weights(Array.from({ length: size }, (_, i) => (i < count ? sampleOf(start + i) : -1))),
    );
  }

  /**
   * Gradients over the samples with each row's top class chosen in the graph (ArgMax → one-hot
   * seed); the run's logits become the batch's prediction, which resolves the deferred target.
   */
  private async gradientsChoosingTop(
    target: BoundTarget,
    request: GradientRowsRequest,
    progress?: (done: number, total: number) => void,
  ): Promise<RowGradients> {
    const requested = request.outputs ?? [];
    const outputs = requested.includes(this.logits) ? requested : [...requested, this.logits];
    const r = await this.gradientPasses(
      this.n,
      this.samples,
      target.tensor,
      { ...request, outputs },
      progress,
      () => 'argmax',
    );
    const logits = r.outputs[this.logits];
    if (!this.forwardCache.has(this.logits))
      this.forwardCache.set(
        this.logits,
        Promise.resolve({ dtype: 'float32', dims: [this.n, logits.length / this.n], data: logits }),
      );
    await this.resolve(target);
    if (!requested.includes(this.logits)) delete r.outputs[this.logits];
    return r;
  }

  /** Forward+backward passes over `rows` filled rows in chunks of `batch`, the objective on `tensor` seeded by `seed(start, count, size)`. */
  private async gradientPasses(
    rows: number,
    fill: RowSource,
    tensor: string,
    request: GradientRowsRequest,
    progress: ((done: number, total: number) => void) | undefined,
    seed: (start: number, count: number, size: number) => Tensor | 'argmax',
  ): Promise<RowGradients> {
    const outputs = request.outputs ?? [];
    const gradients: Record<string, Float32Array> = {};
    const fetched: Record<string, Float32Array> = {};
    await this.chunks(rows, fill, progress, async (x, start, count, size) => {
      const r = await this.model.gradients(x, {
        objective: [{ tensor, weights: seed(start, count, size) }],
        wrt: request.wrt,
        outputs,
        reluRule: request.reluRule,
      });
      for (const w of request.wrt) copyRows(gradients, w, r.gradients[w], start, count, rows);
      for (const o of outputs) copyRows(fetched, o, r.outputs[o], start, count, rows);
    });
    return { gradients, outputs: fetched };
  }

  /** The bound objective's value for each of `rows` filled rows (forward passes only). */
  async objectiveRows(
    rows: number,
    fill: RowSource,
    sampleOf: (row: number) => number,
    target: BoundTarget,
    progress?: (done: number, total: number) => void,
  ): Promise<Float64Array> {
    const values = new Float64Array(rows);
    await this.forwardRows(
      rows,
      fill,
      [target.tensor],
      (result, start, count) => {
        const t = result[target.tensor];
        const weights = target.weights(
          Array.from({ length: t.dims[0] }, (_, k) => (k < count ? sampleOf(start + k) : -1)),
        );
        const v = objectiveValues(t, weights);
        for (let k = 0; k < count; k++) values[start + k] = v[k];
      },
      progress,
    );
    return values;
  }

  /**
   * Forward passes over `rows` filled rows in chunks of `batch`; `consume` sees each chunk's
   * outputs. `feeds` is a RowSource for the explainer's input, or the row feeds of `model` (a model
   * derived from the explainer's, e.g. with a masking prefix), which may also take `fixed` feeds,
   * the same in every chunk.
   */
  async forwardRows(
    rows: number,
    feeds: RowSource | RowFeed[],
    outputs: string[],
    consume: (result: Record<string, Tensor>, start: number, count: number) => void,
    progress?: (done: number, total: number) => void,
    model: ConvlensModel = this.model,
    fixed: Record<string, Tensor> = {},
  ): Promise<void> {
    await this.chunks(rows, feeds, progress, async (x, start, count) => {
      consume(await model.run({ ...fixed, ...x }, { outputs }), start, count);
    });
  }

  /** Run `step` over equal chunks of at most `batch` rows; the last is padded with zero rows. */
  private async chunks(
    rows: number,
    feeds: RowSource | RowFeed[],
    progress: ((done: number, total: number) => void) | undefined,
    step: (x: Record<string, Tensor>, start: number, count: number, size: number) => Promise<void>,
  ): Promise<void> {
    const list: RowFeed[] =
      typeof feeds === 'function'
        ? [{ name: this.inputName, dims: this.input.dims.slice(1), fill: feeds }]
        : feeds;
    // Equal chunks (the last one padded), so padding wastes fewer than one row per chunk.
    const size = Math.ceil(rows / Math.ceil(rows / this.batch));
    if (feeds === this.samples && rows === this.n && size === rows) {
      await step({ [this.inputName]: this.input }, 0, rows, rows);
      progress?.(rows, rows);
      return;
    }
    const buffers = list.map((f) => ({
      ...f,
      per: elementCount(f.dims),
      data: this.acquireRows(size * elementCount(f.dims)),
    }));
    try {
      for (let start = 0; start < rows; start += size) {
        const count = Math.min(size, rows - start);
        const x: Record<string, Tensor> = {};
        for (const b of buffers) {
          if (count < size) b.data.fill(0, count * b.per);
          for (let i = 0; i < count; i++) b.fill(start + i, b.data, i * b.per);
          x[b.name] = { dtype: 'float32', dims: [size, ...b.dims], data: b.data };
        }
        await step(x, start, count, size);
        progress?.(start + count, rows);
      }
    } finally {
      for (const b of buffers) this.releaseRows(b.data);
    }
  }

  /**
   * A row buffer of `length` floats, reused across calls: a fresh multi-megabyte buffer costs a
   * page fault per 4 KiB on first touch, as much as the forward pass of a small model.
   */
  private acquireRows(length: number): Float32Array {
    return this.rowPool.get(length)?.pop() ?? new Float32Array(length);
  }

  private releaseRows(buffer: Float32Array): void {
    const free = this.rowPool.get(buffer.length) ?? [];
    if (free.length < 2) free.push(buffer);
    this.rowPool.set(buffer.length, free);
  }

  /** A RowSource that copies row sampleOf(r) of `input` unchanged. */
  copyOf(input: Tensor, sampleOf: (row: number) => number): RowSource {
    const per = this.rowSize;
    const x = input.data as Float32Array;
    return (r, out, offset) => out.set(x.subarray(sampleOf(r) * per, (sampleOf(r) + 1) * per), offset);
  }
}

function copyRows(
  into: Record<string, Float32Array>,
  name: string,
  t: Tensor,
  start: number,
  count: number,
  rows: number,
): void {
  const per = elementCount(t.dims) / t.dims[0];
  const data = t.data as Float32Array;
  // One run over exactly these rows: its output is the result, uncopied.
  if (start === 0 && count === rows && data.length === rows * per && !into[name]) {
    into[name] = data;
    return;
  }
  into[name] ??= new Float32Array(rows * per);
  into[name].set(data.subarray(0, count * per), start * per);
}

/** Sample i's parameters: the map's, with its per-sample ones reduced to sample i's value. */
export function paramsOf(map: AttributionMap, i: number): Record<string, unknown> {
  const own = Object.entries(map.sampleParams ?? {}).map(([k, v]) => [k, v[i]]);
  return { ...map.params, ...Object.fromEntries(own) };
}

/** Throw when a map holds NaN or ±Infinity, naming the method and the first bad index. */
export function checkFinite(method: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]))
      throw new Error(`${method}: the map has a non-finite value at flat index ${i}`);
}
