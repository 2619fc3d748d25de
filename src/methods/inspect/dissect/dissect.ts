/**
 * Network dissection (Bau et al., "Network Dissection: Quantifying Interpretability of Deep
 * Visual Representations", CVPR 2017): every unit of the chosen layers gets the concept whose
 * pixel masks best overlap the unit's top-quantile regions, IoU_{k,c} = Σ|M_k ∩ L_c| / Σ|M_k ∪ L_c|
 * over the dataset, and a label when that IoU exceeds a threshold (0.04 in the paper).
 *
 * One pass over the data fills the counts (./tally.ts); a state records which images it covers,
 * so a pass resumes where it stopped and shards merge. Units whose threshold fell below their
 * floor are recounted in a second pass over the data (`completeDissection`).
 */
import type { ConceptSample, ConceptSource, ConceptVocabulary } from '../../../data/concepts.js';
import { checkConceptSample } from '../../../data/concepts.js';
import type { Preprocessing } from '../../../data/preprocess.js';
import { elementCount, type Tensor } from '../../../onnx/tensor.js';
import { ConvlensModel } from '../../../runtime/model.js';
import { addInterval, batchIntervals, fillBatch, missing } from '../scan.js';
import { binLowerEdge } from './bins.js';
import { withRowGather } from './graph.js';
import {
  countConcepts,
  type DissectionCounts,
  emptyCounts,
  type GatheredRows,
  mergeCounts,
  pixelConcepts,
  RowCounter,
  resetHistograms,
  resetPixels,
  unitResult,
} from './tally.js';

export const DISSECT_FORMAT = 'convlens-dissect-state';
export const DISSECT_VERSION = 1;
/** The paper's defaults: top quantile 0.005 of each unit's activations, label when IoU > 0.04. */
export const DEFAULT_QUANTILE = 0.005;
export const DEFAULT_IOU = 0.04;

/** A dissection in progress: what it dissects, the images it covers and its counts. */
export interface DissectionState {
  format: typeof DISSECT_FORMAT;
  version: typeof DISSECT_VERSION;
  model: { name: string; sha256: string; input: number[] };
  data: {
    spec: string;
    length: number;
    fingerprint: string;
    preprocessing?: Preprocessing;
    vocabulary: ConceptVocabulary;
  };
  /** Image intervals [start, end) counted, sorted and disjoint. */
  scanned: [number, number][];
  counts: DissectionCounts;
}

export interface DissectOptions {
  layers: string[];
  /** Top quantile of each unit's activations that sets its threshold, in (0, 1) (default 0.005). */
  quantile?: number;
  /** Images per forward pass (default 64). */
  batch?: number;
  /** Write one image into the model input batch at `offset` (preprocessing). */
  toInput(sample: ConceptSample, out: Float32Array, offset: number): void;
  /** Images [start, end) to count (default: all). */
  range?: [number, number];
  /** Stop after the current batch (the state then covers what was counted). */
  signal?: AbortSignal;
  onProgress?(p: { done: number; total: number; stage: 'count' | 'recount' }): void;
  /** Called after each batch with the state so far (a checkpoint may be saved). */
  onBatch?(state: DissectionState): void | Promise<void>;
}

/** Check a quantile: a number in (0, 1). */
export function checkQuantile(q: number): number {
  if (!(q > 0 && q < 1)) throw new Error(`quantile must be in (0, 1), got ${q}`);
  return q;
}

/** A fresh state for `layers` (each [channels, height, width]); masks are at the source's resolution. */
export function emptyState(
  meta: Pick<DissectionState, 'model' | 'data'>,
  layers: Record<string, { channels: number; height: number; width: number }>,
  options: { quantile?: number; size: [number, number] },
): DissectionState {
  for (const [name, l] of Object.entries(layers))
    if (l.height * l.width < 2)
      throw new Error(
        `layer "${name}" has no spatial extent ([${l.channels}, ${l.height}, ${l.width}]): dissection needs a feature map`,
      );
  return {
    format: DISSECT_FORMAT,
    version: DISSECT_VERSION,
    ...meta,
    scanned: [],
    counts: emptyCounts(layers, {
      quantile: checkQuantile(options.quantile ?? DEFAULT_QUANTILE),
      concepts: meta.data.vocabulary.concepts.length,
      size: options.size,
    }),
  };
}

/** Images the state covers. */
export const countedImages = (state: DissectionState) => state.scanned.reduce((n, [s, e]) => n + e - s, 0);

/** The data-pass graph and a counter per layer, made once per pass. */
function passRunner(model: ConvlensModel, state: DissectionState, layers: readonly string[]) {
  const dims = Object.fromEntries(layers.map((l) => [l, state.counts.layers[l]]));
  const graph = withRowGather(model.model, dims);
  const runner = new ConvlensModel(graph.model, model.backend, model.sessionOptions);
  const counters = Object.fromEntries(
    layers.map((l) => [l, new RowCounter(dims[l].height, dims[l].width, state.counts.size)]),
  );
  return { graph, runner, counters };
}

type Steps = {
  histogram: boolean;
  raise: boolean;
  pixels: boolean;
  only?: Record<string, ReadonlySet<number>>;
};

/**
 * Run images `todo` (intervals) through the model in batches and count them with `steps`;
 * returns false when stopped by the signal. Batch k + 1 runs in onnxruntime while batch k is
 * counted; the first batch is counted before the next starts, so its floors already prune.
 */
async function runPass(
  model: ConvlensModel,
  source: ConceptSource,
  state: DissectionState,
  layers: readonly string[],
  todo: readonly [number, number][],
  steps: Steps,
  options: DissectOptions,
  onCounted: (start: number, count: number) => Promise<void>,
): Promise<boolean> {
  const batch = options.batch ?? 64;
  const input = state.model.input;
  const per = elementCount(input);
  const { graph, runner, counters } = passRunner(model, state, layers);
  const area = state.counts.size[0] * state.counts.size[1];
  const batches = batchIntervals(todo, batch);
  const buffers = [new Float32Array(batch * per), new Float32Array(batch * per)];
  const load = async (k: number) => {
    const [start, count] = batches[k];
    const images = Array.from({ length: count }, (_, i) => start + i);
    const x = buffers[k % 2];
    const samples = await fillBatch(source, images, x, per, options.toInput);
    for (const [j, sample] of samples.entries()) checkConceptSample(source, images[j], sample);
    return { start, count, images, samples, x };
  };
  const fetch = layers.flatMap((l) =>
    [graph.outputs[l].rows, graph.outputs[l].maps, graph.outputs[l].max].filter((n) => n !== undefined),
  );
  const run = (x: Float32Array) => {
    const feeds: Record<string, Tensor> = {
      [model.inputNames[0]]: { dtype: 'float32', dims: [batch, ...input], data: x },
    };
    for (const l of layers) {
      const t = graph.outputs[l].threshold;
      if (!t) continue;
      const only = steps.only?.[l];
      const data = Float32Array.from(state.counts.layers[l].units, (u, c) =>
        only && !only.has(c) ? Number.POSITIVE_INFINITY : binLowerEdge(u.floor),
      );
      feeds[t] = { dtype: 'float32', dims: [data.length], data };
    }
    return runner.run(feeds, { outputs: fetch });
  };
  const fold = (b: Awaited<ReturnType<typeof load>>, out: Record<string, Tensor>) => {
    const concepts = b.samples.map((s) => pixelConcepts(s, area, state.counts.concepts));
    for (const l of layers) {
      const o = graph.outputs[l];
      const info = state.counts.layers[l];
      const maps = out[o.maps].data as Float32Array;
      const rows = o.rows
        ? (out[o.rows].data as Int32Array)
        : Int32Array.from({ length: batch * info.channels }, (_, r) => r);
      const gathered: GatheredRows = { rows, maps, max: out[o.max].data as Float32Array };
      const only = steps.only?.[l];
      counters[l].count(state.counts, l, gathered, b.images, concepts, { ...steps, only });
    }
    if (steps.histogram && !steps.only) countConcepts(state.counts, concepts);
  };
  try {
    if (batches.length === 0) return true;
    let current = await load(0);
    let running = run(current.x);
    for (let k = 0; k < batches.length; k++) {
      const out = await running;
      const next = k + 1 < batches.length && !options.signal?.aborted ? await load(k + 1) : undefined;
      if (k === 0) fold(current, out);
      if (next) running = run(next.x);
      if (k > 0) fold(current, out);
      await onCounted(current.start, current.count);
      if (!next) return k + 1 === batches.length;
      if (options.signal?.aborted) {
        await running; // the batch in flight is dropped, not counted
        return false;
      }
      current = next;
    }
    return true;
  } finally {
    await runner.release();
  }
}

/**
 * Count the images of `source` not yet in `state` (within `range`), in batches, into `state`
 * (in place). Returns whether the pass reached the end of the range.
 *
 * @example
 * ```ts
 * const state = emptyState(meta, { features: { channels: 64, height: 16, width: 16 } }, { size: [64, 64] });
 * await dissectPass(model, shapesConcepts({ length: 2000, seed: 2 }), state, { layers: ['features'], toInput });
 * await completeDissection(model, source, state, { layers: ['features'], toInput });
 * const result = dissectionResult(state);
 * ```
 */
export async function dissectPass(
  model: ConvlensModel,
  source: ConceptSource,
  state: DissectionState,
  options: DissectOptions,
): Promise<boolean> {
  if (source.length === 0) throw new Error(`${source.name}: the dataset is empty`);
  const [start, end] = options.range ?? [0, source.length];
  if (
    !(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= source.length && start < end)
  )
    throw new Error(`dissection range ${start}:${end} is not within the dataset's 0:${source.length}`);
  const todo = missing(state.scanned, start, end);
  const total = end - start;
  let done = total - todo.reduce((n, [s, e]) => n + e - s, 0);
  options.onProgress?.({ done, total, stage: 'count' });
  const steps = { histogram: true, raise: true, pixels: true };
  return runPass(model, source, state, options.layers, todo, steps, options, async (s, count) => {
    state.scanned = addInterval(state.scanned, s, s + count);
    done += count;
    options.onProgress?.({ done, total, stage: 'count' });
    await options.onBatch?.(state);
  });
}

/** Per layer, the units whose threshold fell below their floor. */
export function incompleteUnits(state: DissectionState): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, l] of Object.entries(state.counts.layers)) {
    const units = l.units.flatMap((u, c) =>
      unitResult(state.counts, u, l.height * l.width).complete ? [] : [c],
    );
    if (units.length > 0) out[name] = units;
  }
  return out;
}

/**
 * Recount the units whose threshold fell below their floor (rare: data whose strongest images come
 * early, or unbalanced shards): one pass bins their activations again from the lowest bin, a
 * second counts their pixels at the threshold. Needs the state to cover the whole dataset.
 */
export async function completeDissection(
  model: ConvlensModel,
  source: ConceptSource,
  state: DissectionState,
  options: DissectOptions,
): Promise<void> {
  const incomplete = incompleteUnits(state);
  const layers = Object.keys(incomplete);
  if (layers.length === 0) return;
  if (countedImages(state) !== source.length)
    throw new Error(
      `the dissection covers ${countedImages(state)} of ${source.length} images; count them all before completing it`,
    );
  const only = Object.fromEntries(layers.map((l) => [l, new Set(incomplete[l])]));
  const all: [number, number][] = [[0, source.length]];
  for (const l of layers) resetHistograms(state.counts, l, only[l]);
  let done = 0;
  const progress = async (_: number, count: number) => {
    done += count;
    options.onProgress?.({ done, total: 2 * source.length, stage: 'recount' });
  };
  const histogram = { histogram: true, raise: false, pixels: false, only };
  if (!(await runPass(model, source, state, layers, all, histogram, options, progress)))
    throw new Error('the recount was stopped; run it again');
  for (const l of layers) {
    const info = state.counts.layers[l];
    const bins = new Map(
      incomplete[l].map((c) => [
        c,
        unitResult(state.counts, info.units[c], info.height * info.width).quantileBin,
      ]),
    );
    resetPixels(state.counts, l, bins);
  }
  const pixels = { histogram: false, raise: false, pixels: true, only };
  if (!(await runPass(model, source, state, layers, all, pixels, options, progress)))
    throw new Error('the recount was stopped; run it again');
}

/** One concept's score for a unit. */
export interface ConceptScore {
  concept: string;
  category: string;
  iou: number;
}

export interface UnitRecord {
  unit: number;
  /** The best concept when its IoU exceeds the IoU threshold, else null. */
  label: string | null;
  category: string | null;
  /** IoU of the best concept (labelled or not). */
  iou: number;
  /** T_k: the unit's mask is its upsampled map ≥ this. */
  threshold: number;
  /** Fraction of all mask pixels of the dataset in the unit's mask. */
  coverage: number;
  /** The best concepts, highest IoU first. */
  top: ConceptScore[];
  /** The images where the unit fires most, [image, max activation], highest first. */
  images: [number, number][];
}

export interface LayerRecord {
  layer: string;
  shape: [number, number, number];
  units: UnitRecord[];
  /** Units with a label. */
  interpretable: number;
  /** Labelled units per category. */
  byCategory: Record<string, number>;
  /** Distinct concepts among the labels. */
  uniqueConcepts: number;
}

export interface DissectionResult {
  model: DissectionState['model'];
  data: { spec: string; length: number; images: number; categories: string[] };
  quantile: number;
  iouThreshold: number;
  layers: LayerRecord[];
}

/**
 * Labels, IoUs and thresholds of every unit from a state's counts (complete: see `completeDissection`).
 *
 * @example
 * ```ts
 * const { layers } = dissectionResult(state, { iou: 0.04 });
 * for (const u of layers[0].units) if (u.label) console.log(u.unit, u.label, u.iou.toFixed(3));
 * ```
 */
export function dissectionResult(
  state: DissectionState,
  options: { iou?: number; top?: number } = {},
): DissectionResult {
  const iouThreshold = options.iou ?? DEFAULT_IOU;
  if (!(iouThreshold >= 0 && iouThreshold < 1))
    throw new Error(`IoU threshold must be in [0, 1), got ${iouThreshold}`);
  const { concepts, categories } = state.data.vocabulary;
  const counts = state.counts;
  if (counts.images === 0) throw new Error('the dissection has counted no images');
  const layers = Object.entries(counts.layers).map(([layer, l]): LayerRecord => {
    const totalPixels = counts.images * counts.size[0] * counts.size[1];
    const units = l.units.map((u, unit): UnitRecord => {
      const r = unitResult(counts, u, l.height * l.width);
      if (!r.complete)
        throw new Error(
          `layer "${layer}" unit ${unit} needs a recount (completeDissection) before it can be labelled`,
        );
      const order = Array.from(r.iou.keys()).sort((a, b) => r.iou[b] - r.iou[a] || a - b);
      const best = order[0];
      const labelled = r.iou[best] > iouThreshold;
      return {
        unit,
        label: labelled ? concepts[best].name : null,
        category: labelled ? concepts[best].category : null,
        iou: r.iou[best],
        threshold: r.threshold,
        coverage: r.maskPixels / totalPixels,
        top: order
          .slice(0, options.top ?? 5)
          .map((c) => ({ concept: concepts[c].name, category: concepts[c].category, iou: r.iou[c] })),
        images: u.top.map(([image, value]) => [image, value]),
      };
    });
    const labelled = units.filter((u) => u.label !== null);
    return {
      layer,
      shape: [l.channels, l.height, l.width],
      units,
      interpretable: labelled.length,
      byCategory: Object.fromEntries(
        categories.map((c) => [c, labelled.filter((u) => u.category === c).length]),
      ),
      uniqueConcepts: new Set(labelled.map((u) => u.label)).size,
    };
  });
  return {
    model: state.model,
    data: {
      spec: state.data.spec,
      length: state.data.length,
      images: counts.images,
      categories: [...categories],
    },
    quantile: counts.quantile,
    iouThreshold,
    layers,
  };
}

/** Why state `b` cannot continue or merge into `a`, or undefined when it can. */
export function stateIncompatibility(a: DissectionState, b: DissectionState): string | undefined {
  if (a.model.sha256 !== b.model.sha256)
    return `they dissect different models (${a.model.name} vs ${b.model.name})`;
  if (JSON.stringify(a.data) !== JSON.stringify(b.data))
    return `they dissect different data (${a.data.spec} vs ${b.data.spec})`;
  if (a.counts.quantile !== b.counts.quantile)
    return `they use different quantiles (${a.counts.quantile} vs ${b.counts.quantile})`;
  const layers = (s: DissectionState) =>
    JSON.stringify(Object.entries(s.counts.layers).map(([n, l]) => [n, l.channels, l.height, l.width]));
  if (layers(a) !== layers(b))
    return `they dissect different layers (${Object.keys(a.counts.layers).join(', ')} vs ${Object.keys(b.counts.layers).join(', ')})`;
  return undefined;
}

/** Merge states of disjoint shards of one dissection. */
export function mergeStates(states: readonly DissectionState[]): DissectionState {
  if (states.length === 0) throw new Error('nothing to merge');
  const [first] = states;
  let scanned: [number, number][] = [];
  for (const s of states) {
    const why = stateIncompatibility(first, s);
    if (why) throw new Error(`cannot merge: ${why}`);
    for (const [a, b] of s.scanned) {
      const overlap = scanned.find(([x, y]) => x < b && a < y);
      if (overlap)
        throw new Error(
          `cannot merge: shards overlap on images ${Math.max(a, overlap[0])}:${Math.min(b, overlap[1])}`,
        );
      scanned = addInterval(scanned, a, b);
    }
  }
  return { ...first, scanned, counts: mergeCounts(states.map((s) => s.counts)) };
}

/**
 * Dissect `layers` of a model over a concept dataset: one counting pass, a recount where needed,
 * then the labels.
 *
 * @example
 * ```ts
 * const source = shapesConcepts({ length: 2000, seed: 2 });
 * const result = await dissect(model, source, {
 *   layers: ['relu3', 'features'],
 *   toInput: (s, out, offset) => normalizeInto(s.image, 3, preprocessing, out, offset),
 * });
 * console.log(result.layers[1].interpretable, 'of', result.layers[1].units.length, 'units have a label');
 * ```
 */
export async function dissect(
  model: ConvlensModel,
  source: ConceptSource,
  options: DissectOptions & { iou?: number; meta?: Pick<DissectionState, 'model' | 'data'> },
): Promise<{ result: DissectionResult; state: DissectionState }> {
  if (source.length === 0) throw new Error(`${source.name}: the dataset is empty`);
  // A generator's input is its latent (meta.model.input), not the images it is dissected on.
  const input = options.meta?.model.input ?? [source.channels, source.height, source.width];
  const shapes = await model.layers([1, ...input]);
  const dims: Record<string, { channels: number; height: number; width: number }> = {};
  for (const name of options.layers) {
    const info = shapes.find((l) => l.tensor === name);
    if (!info) throw new Error(`layer "${name}" is not a tensor of the model`);
    if (info.shape.length !== 4)
      throw new Error(
        `layer "${name}" has shape [${info.shape.join(', ')}]: dissection needs a [N, C, H, W] feature map`,
      );
    dims[name] = { channels: info.shape[1], height: info.shape[2], width: info.shape[3] };
  }
  const meta = options.meta ?? {
    model: { name: 'model', sha256: '-', input },
    data: {
      spec: source.name,
      length: source.length,
      fingerprint: source.name,
      vocabulary: source.vocabulary,
    },
  };
  const state = emptyState(meta, dims, { quantile: options.quantile, size: [source.height, source.width] });
  if (!(await dissectPass(model, source, state, options))) throw new Error('the dissection was stopped');
  await completeDissection(model, source, state, options);
  return { result: dissectionResult(state, { iou: options.iou }), state };
}
