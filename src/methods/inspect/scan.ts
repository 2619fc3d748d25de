/**
 * Dataset scans: run a dataset through a model in batches and keep, for every channel of the
 * chosen layers, its top-k images (at most one entry per image: the spatial argmax) plus per-class
 * sums of each channel's spatial mean. Memory is bounded by layers × channels × k, whatever the
 * dataset size. An index records which images it covers, so an interrupted scan resumes where it
 * stopped and shards scanned separately merge into the same index as one full scan.
 *
 * The index is JSON (format "convlens-scan", version 1; see docs/scan-index.md). Hits are ordered
 * by value, highest first, ties by image index, so results do not depend on scan order.
 *
 * Long scans defer positions: each batch runs the model with only GlobalMaxPool and
 * GlobalAveragePool appended (onnxruntime keeps them in its blocked NCHWc layout, so a batch costs
 * about a plain forward), and before the index is returned or checkpointed the images of the
 * surviving hits run once more through the position graph, pruned to each layer
 * (`resolvePositions`). Short scans, where
 * that second pass could reach a sizeable share of the images, take positions in every batch, but
 * only for the rows whose max can still enter their channel's top-k (thresholds fed per batch).
 */

import { Emitter } from '../../autodiff/emitter.js';
import type { Sample, SampleSource } from '../../data/dataset.js';
import type { Preprocessing } from '../../data/preprocess.js';
import { addExact, mergeExact } from '../../maths/exactSum.js';
import { ancestors } from '../../onnx/graph.js';
import { cloneModel, type Model } from '../../onnx/model.js';
import { elementCount, type Tensor } from '../../onnx/tensor.js';
import { ConvlensModel } from '../../runtime/model.js';
import type { ReceptiveField } from './receptiveField.js';

export const SCAN_FORMAT = 'convlens-scan';
export const SCAN_VERSION = 1;

/** One maximally activating location: dataset image, unit position, activation. */
export interface ScanHit {
  image: number;
  /** Position of the spatial max (first in row-major order); −1 until resolved during a scan. */
  y: number;
  x: number;
  value: number;
}

export interface ScanLayer {
  channels: number;
  height: number;
  width: number;
  /** The layer's receptive field (null when it cannot be modelled). */
  field: ReceptiveField | null;
  /** Per channel, the top-k hits, highest first. */
  top: ScanHit[][];
  /**
   * Row-major [classes × channels]: sums over scanned images of each channel's spatial mean, kept
   * exact with `classSumsLow` (see maths/exactSum), so any split of a scan merges to the same bits.
   */
  classSums: number[];
  /** The low halves of the exact class sums (absent in indexes from before they were kept). */
  classSumsLow?: number[];
}

export interface ScanIndex {
  format: typeof SCAN_FORMAT;
  version: typeof SCAN_VERSION;
  model: { name: string; sha256: string; input: number[] };
  data: {
    spec: string;
    split: string;
    length: number;
    classes: string[];
    /** Identifies the exact images (built-in: name, split, size; folder: hash of the file list). */
    fingerprint: string;
    /** How images became model inputs (so patches can redraw them). */
    preprocessing: Preprocessing;
  };
  /** Hits kept per channel. */
  top: number;
  layers: Record<string, ScanLayer>;
  /** Scanned image intervals [start, end), sorted and disjoint. */
  scanned: [number, number][];
  /** Images scanned per class (unlabelled images are counted in no class). */
  classCounts: number[];
}

/** Where a scan reads images: labelled samples by index, loaded on demand. */
export type ScanSource = Pick<SampleSource, 'length' | 'classes' | 'load'>;

export interface ScanOptions {
  layers: string[];
  top: number;
  batch: number;
  /** Images [start, end) to scan (default: all). */
  range?: [number, number];
  /** Write one image into the model input batch at `offset` (preprocessing). */
  toInput(sample: Sample, out: Float32Array, offset: number): void;
  /** Stop after the current batch (the index then covers what was scanned). */
  signal?: AbortSignal;
  onProgress?(p: { done: number; total: number }): void;
  /**
   * Defer positions to one pass over the surviving hits (default: when layers × channels × top,
   * the most images that pass can take, is under 5% of the images to scan).
   */
  deferPositions?: boolean;
  /** A reducer made once for repeated scans of the same layers (default: one per call). */
  reducer?: ChannelReducer;
  /**
   * Called after each batch with the index so far; await `resolve()` before saving it (a
   * checkpoint), which fills the positions of the hits found since the last call.
   */
  onBatch?(index: ScanIndex, resolve: () => Promise<void>): void | Promise<void>;
}

/** An index that has scanned nothing yet. */
export function emptyIndex(
  meta: Pick<ScanIndex, 'model' | 'data' | 'top'>,
  layers: Record<string, { channels: number; height: number; width: number; field: ReceptiveField | null }>,
): ScanIndex {
  const classes = meta.data.classes.length;
  return {
    format: SCAN_FORMAT,
    version: SCAN_VERSION,
    ...meta,
    layers: Object.fromEntries(
      Object.entries(layers).map(([name, l]) => [
        name,
        {
          ...l,
          top: Array.from({ length: l.channels }, () => []),
          classSums: new Array(classes * l.channels).fill(0),
          classSumsLow: new Array(classes * l.channels).fill(0),
        },
      ]),
    ),
    scanned: [],
    classCounts: new Array(classes).fill(0),
  };
}

type Ranked = Pick<ScanHit, 'value' | 'image'>;
const before = (a: Ranked, b: Ranked) => a.value > b.value || (a.value === b.value && a.image < b.image);

/** Whether `hit` would enter `list` (best first, at most k entries). */
const enters = (list: readonly ScanHit[], hit: Ranked, k: number) =>
  list.length < k || before(hit, list[k - 1]);

/** Insert `hit` into `list` (best first) keeping at most k entries. */
function offer(list: ScanHit[], hit: ScanHit, k: number): void {
  if (!enters(list, hit, k)) return;
  let i = list.length;
  while (i > 0 && before(hit, list[i - 1])) i--;
  list.splice(i, 0, hit);
  if (list.length > k) list.pop();
}

/**
 * Per sample and channel of an [n, C, H, W] map: spatial max, its first row-major position (absent
 * when the scan defers positions), and the spatial mean.
 */
export interface ChannelReductions {
  max: ArrayLike<number>;
  argmax?: ArrayLike<number>;
  mean: ArrayLike<number>;
}

/** The spatial reductions of a [n, C, H·W] map in JavaScript (the reference for the ONNX ones). */
export function channelReductions(
  data: Float32Array,
  n: number,
  channels: number,
  area: number,
): ChannelReductions {
  const max = new Float32Array(n * channels);
  const argmax = new Int32Array(n * channels);
  const mean = new Float64Array(n * channels);
  for (let r = 0; r < n * channels; r++) {
    const offset = r * area;
    let best = offset;
    let sum = 0;
    for (let j = offset; j < offset + area; j++) {
      sum += data[j];
      if (data[j] > data[best]) best = j;
    }
    max[r] = data[best];
    argmax[r] = best - offset;
    mean[r] = sum / area;
  }
  return { max, argmax, mean };
}

/** Outputs of the position graph for one layer. */
export interface ReductionOutputs {
  /** [N, C] spatial max. */
  max: string;
  /** [N, C] spatial mean. */
  mean: string;
  /** Positions (int32, first row-major maximum) of the rows listed in `rows`; of every row when it is absent. */
  argmax: string;
  /** [K] rows n·C + c (int32) that `argmax` covers: row 0 and those whose max reaches the layer's threshold. */
  rows?: string;
  /** Input [C]: a row gets a position only when its max ≥ its channel's threshold (−∞: every row). */
  threshold?: string;
}

/** The outputs a layer's reductions fetch, in order: max, mean, then positions and their rows where present. */
const reductionNames = (o: Partial<ReductionOutputs>): string[] =>
  [o.max, o.mean, o.argmax, o.rows].filter((n) => n !== undefined);

/**
 * The model with, for every layer [N, C, H, W], its per-channel spatial max (GlobalMaxPool, in
 * onnxruntime's blocked layout), mean (ReduceMean) and, for the rows whose max reaches a fed
 * per-channel threshold, the max's first row-major position (NonZero, Gather, then one TopK with
 * k = 1), so a scan fetches N·C numbers per layer instead of the map, and the position search,
 * which needs the map in plain NCHW layout, runs only on rows that can still enter a top-k.
 * Opsets before 9 (no NonZero) take every row's position and have no threshold.
 */
export function withChannelReductions(
  model: Model,
  layers: Record<string, { channels: number; height: number; width: number }>,
): { model: Model; outputs: Record<string, ReductionOutputs> } {
  const out = cloneModel(model);
  const emit = new Emitter(out.opsets[''] ?? 13, 'scan');
  const outputs: Record<string, ReductionOutputs> = {};
  const topOne = (x: string, axis: number) =>
    emit.opset >= 10
      ? emit.opN('TopK', [x, emit.ints([1])], { axis }, 2)
      : emit.opN('TopK', [x], { axis, k: 1 }, 2);
  const int32 = (x: string) => emit.op('Cast', [x], { to: 6 });
  for (const [name, l] of Object.entries(layers)) {
    const area = l.height * l.width;
    const mean = emit.reduceMean(emit.reshape(name, [-1, l.channels, area]), [2], false);
    const rowsOfMap = emit.reshape(name, [-1, area]);
    if (emit.opset < 9) {
      const [value, at] = topOne(rowsOfMap, 1);
      outputs[name] = {
        max: emit.reshape(value, [-1, l.channels]),
        mean,
        argmax: emit.reshape(int32(at), [-1, l.channels]),
      };
      continue;
    }
    const max = emit.reshape(emit.op('GlobalMaxPool', [name]), [-1, l.channels]);
    const threshold = `scan/threshold:${name}`;
    out.graph.inputs.push({ name: threshold, dtype: 'float32', shape: [l.channels] });
    const reaches = emit.reshape(emit.op('Not', [emit.op('Less', [max, threshold])]), [-1]);
    // Row 0 rides along, so TopK never gets an empty tensor (onnxruntime 1.30 dies of SIGFPE on one).
    const rows = emit.concat([emit.ints([0]), emit.reshape(emit.op('NonZero', [reaches]), [-1])], 0);
    const [, at] = topOne(emit.op('Gather', [rowsOfMap, rows], { axis: 0 }), 1);
    outputs[name] = {
      max,
      mean,
      argmax: emit.reshape(int32(at), [-1]),
      rows: int32(rows),
      threshold,
    };
  }
  out.graph.nodes.push(...emit.nodes);
  for (const [k, v] of emit.initializers) out.graph.initializers.set(k, v);
  out.graph.outputs.push(
    ...Object.values(outputs).flatMap((o) => reductionNames(o).map((name) => ({ name }))),
  );
  return { model: out, outputs };
}

/**
 * Per channel, the least max with which an image of a batch starting at image `first` can enter
 * its top-k: −∞ while the list is short; else its k-th value, or the next float32 above it when
 * the k-th hit's image precedes the batch (a tie then loses on image index, see `before`).
 */
export function entryThresholds(l: Pick<ScanLayer, 'top'>, k: number, first: number): Float32Array {
  return Float32Array.from(l.top, (list) => {
    if (list.length < k) return -Infinity;
    const last = list[k - 1];
    return last.image < first ? nextFloat32(last.value) : last.value;
  });
}

/** The least float32 above a finite float32 `v`. */
export function nextFloat32(v: number): number {
  const f = Float32Array.of(v);
  const bits = new Int32Array(f.buffer);
  if (v === 0) bits[0] = 1;
  else bits[0] += v > 0 ? 1 : -1;
  return f[0];
}

/** Positions per row n·C + c from the position graph's outputs; −1 for rows it did not search. */
export function rowPositions(argmax: Int32Array, rows: Int32Array | undefined, total: number): Int32Array {
  if (!rows) return argmax;
  const out = new Int32Array(total).fill(-1);
  for (const [k, r] of rows.entries()) out[r] = argmax[k];
  return out;
}

/**
 * The model with, for every layer [N, C, H, W], its spatial max (GlobalMaxPool) and mean
 * (GlobalAveragePool) as [N, C] outputs: no positions, and no layout change for onnxruntime.
 */
export function withChannelSummaries(
  model: Model,
  layers: Record<string, { channels: number }>,
): { model: Model; outputs: Record<string, { max: string; mean: string }> } {
  const out = cloneModel(model);
  const emit = new Emitter(out.opsets[''] ?? 13, 'scan');
  const outputs: Record<string, { max: string; mean: string }> = {};
  for (const [name, l] of Object.entries(layers)) {
    outputs[name] = {
      max: emit.reshape(emit.op('GlobalMaxPool', [name]), [-1, l.channels]),
      mean: emit.reshape(emit.op('GlobalAveragePool', [name]), [-1, l.channels]),
    };
  }
  out.graph.nodes.push(...emit.nodes);
  for (const [k, v] of emit.initializers) out.graph.initializers.set(k, v);
  out.graph.outputs.push(...Object.values(outputs).flatMap((o) => [{ name: o.max }, { name: o.mean }]));
  return { model: out, outputs };
}

/** Fold one batch of a layer's per-channel reductions for `images` (with `labels`) into the index. */
export function accumulate(
  index: ScanIndex,
  layer: string,
  reduced: ChannelReductions,
  images: readonly number[],
  labels: readonly number[],
): void {
  const l = index.layers[layer];
  for (const [n, image] of images.entries()) {
    const label = labels[n];
    for (let c = 0; c < l.channels; c++) {
      const r = n * l.channels + c;
      const value = reduced.max[r];
      const mean = reduced.mean[r];
      if (!Number.isFinite(value) || !Number.isFinite(mean))
        throw new Error(`layer "${layer}" channel ${c} is not finite on image ${image}`);
      // Most values lose to a full list's last entry: test that before making a hit.
      if (enters(l.top[c], { value, image }, index.top)) {
        const at = reduced.argmax ? Number(reduced.argmax[r]) : -1;
        const [y, x] = at < 0 ? [-1, -1] : [Math.floor(at / l.width), at % l.width];
        offer(l.top[c], { image, y, x, value }, index.top);
      }
      if (label >= 0 && label < index.classCounts.length) {
        l.classSumsLow ??= new Array(l.classSums.length).fill(0);
        addExact(l.classSums, l.classSumsLow, label * l.channels + c, mean);
      }
    }
  }
}

/** Add [start, end) to sorted disjoint intervals (touching ones join). */
export function addInterval(intervals: [number, number][], start: number, end: number): [number, number][] {
  const all = [...intervals, [start, end] as [number, number]].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, e] of all) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** The images of [start, end) that `intervals` do not cover, as intervals. */
export function missing(
  intervals: readonly [number, number][],
  start: number,
  end: number,
): [number, number][] {
  const out: [number, number][] = [];
  let at = start;
  for (const [s, e] of intervals) {
    if (e <= at || s >= end) continue;
    if (s > at) out.push([at, Math.min(s, end)]);
    at = Math.max(at, e);
  }
  if (at < end) out.push([at, end]);
  return out;
}

/** Images the index covers. */
export const scannedCount = (index: ScanIndex) => index.scanned.reduce((n, [s, e]) => n + e - s, 0);

/**
 * Scan images of `source` not yet in `index` (within `range`), in batches, into `index` (in place).
 * Returns whether the scan reached the end of the range (false when stopped by the signal).
 *
 * @example
 * ```ts
 * const index = emptyIndex(meta, layerInfo);
 * await scan(model, source, index, { layers: ['conv3'], top: 9, batch: 64, toInput });
 * console.log(index.layers.conv3.top[5]); // the 9 images where channel 5 fires most
 * ```
 */
export async function scan(
  model: ConvlensModel,
  source: ScanSource,
  index: ScanIndex,
  options: ScanOptions,
): Promise<boolean> {
  const [start, end] = options.range ?? [0, source.length];
  if (
    !(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= source.length && start < end)
  )
    throw new Error(`scan range ${start}:${end} is not within the dataset's 0:${source.length}`);
  const todo = missing(index.scanned, start, end);
  const total = end - start;
  let done = total - todo.reduce((n, [s, e]) => n + e - s, 0);
  const input = index.model.input;
  const per = elementCount(input);
  const batch = options.batch;
  const own = !options.reducer;
  const channels = options.reducer ?? channelReducer(model, index.layers);
  const defer =
    options.deferPositions ?? defersPositions(index.layers, options.layers, options.top, total - done);
  const graph = defer ? channels.summarizing : channels.reducing;
  const runner = defer ? channels.summarizer : channels.reducer;
  const fetch = options.layers.flatMap((l) => reductionNames(graph.outputs[l]));
  const resolve = () => resolvePositions(index, source, channels, options);
  // Batches in order, as [start, count], so a resumed scan sees the same batches as an uninterrupted one.
  const batches = batchIntervals(todo, batch);
  // Two input buffers: the next batch is loaded while onnxruntime runs the current one, and a
  // batch's results are folded in while the next one runs.
  const buffers = [new Float32Array(batch * per), new Float32Array(batch * per)];
  const load = async (k: number) => {
    const [b, count] = batches[k];
    const images = Array.from({ length: count }, (_, i) => b + i);
    const x = buffers[k % 2];
    const samples = await fillBatch(source, images, x, per, options.toInput);
    return { b, count, images, labels: samples.map((sample) => sample.label), x };
  };
  // Positions are searched only where a max can reach the thresholds in force when the batch
  // starts; thresholds only rise while it runs, so every row that enters is among them.
  const run = (x: Float32Array, first: number) =>
    runner.run(
      {
        [model.inputNames[0]]: { dtype: 'float32', dims: [batch, ...input], data: x },
        ...(defer ? {} : thresholdFeeds(channels.reducing, index, first)),
      },
      { outputs: fetch },
    );
  options.onProgress?.({ done, total });
  try {
    if (batches.length === 0) return true;
    if (options.signal?.aborted) return false;
    const finished = await scanBatches();
    await resolve();
    return finished;
  } finally {
    if (own) await channels.release();
  }

  async function scanBatches(): Promise<boolean> {
    let current = await load(0);
    let running = run(current.x, current.b);
    for (let k = 0; k < batches.length; k++) {
      const next = k + 1 < batches.length && !options.signal?.aborted ? await load(k + 1) : undefined;
      const out = await running;
      // A deferring scan folds a batch in while the next one runs; one taking positions folds it
      // in first, so the next batch's thresholds count it.
      if (defer && next) running = run(next.x, next.b);
      fold(current, out);
      if (!defer && next) running = run(next.x, next.b);
      done += current.count;
      options.onProgress?.({ done, total });
      await options.onBatch?.(index, resolve);
      if (!next) return k + 1 === batches.length;
      current = next;
    }
    return true;
  }

  function fold(batch: Awaited<ReturnType<typeof load>>, out: Record<string, Tensor>): void {
    for (const layer of options.layers) {
      const names: Partial<ReductionOutputs> & { max: string; mean: string } = graph.outputs[layer];
      const max = out[names.max].data as Float32Array;
      const argmax =
        names.argmax === undefined
          ? undefined
          : rowPositions(
              out[names.argmax].data as Int32Array,
              names.rows ? (out[names.rows].data as Int32Array) : undefined,
              max.length,
            );
      const mean = out[names.mean].data as Float32Array;
      accumulate(index, layer, { max, mean, argmax }, batch.images, batch.labels);
    }
    for (const label of batch.labels)
      if (label >= 0 && label < index.classCounts.length) index.classCounts[label]++;
    index.scanned = addInterval(index.scanned, batch.b, batch.b + batch.count);
  }
}

/** Batches of at most `batch` images over `intervals`, in order, as [start, count]. */
export function batchIntervals(intervals: readonly [number, number][], batch: number): [number, number][] {
  return intervals.flatMap(([s, e]) =>
    Array.from({ length: Math.ceil((e - s) / batch) }, (_, k): [number, number] => [
      s + k * batch,
      Math.min(batch, e - s - k * batch),
    ]),
  );
}

/** Load `images` into the zeroed batch buffer `x`, `per` values each, in order; returns the samples. */
export async function fillBatch<S extends Sample>(
  source: { load(index: number): S | Promise<S> },
  images: readonly number[],
  x: Float32Array,
  per: number,
  toInput: (sample: S, out: Float32Array, offset: number) => void,
): Promise<S[]> {
  const samples = await Promise.all(images.map((i) => source.load(i)));
  x.fill(0);
  for (const [j, sample] of samples.entries()) toInput(sample, x, j * per);
  return samples;
}

/**
 * Whether a scan of `images` images defers positions by default: when layers × channels × top, the
 * most images the resolving pass can take, is under 5% of them.
 */
export function defersPositions(
  layers: Record<string, { channels: number }>,
  scanned: readonly string[],
  top: number,
  images: number,
): boolean {
  return scanned.reduce((n, l) => n + layers[l].channels * top, 0) < 0.05 * images;
}

/**
 * Fill the positions of unresolved hits. Each layer's pending images run through the position
 * graph pruned to that layer (an early layer costs a fraction of a forward pass), deepest layer
 * first; a pass also reads the positions of every pending layer upstream of its own, so an image
 * pending in several layers runs once. Each hit takes its channel's first row-major maximum.
 */
export async function resolvePositions(
  index: ScanIndex,
  source: ScanSource,
  channels: ChannelReducer,
  options: Pick<ScanOptions, 'batch' | 'toInput' | 'layers'>,
): Promise<void> {
  const pending = new Map<string, Set<number>>();
  for (const layer of options.layers) {
    const images = new Set<number>();
    for (const list of index.layers[layer].top) for (const hit of list) if (hit.y < 0) images.add(hit.image);
    if (images.size > 0) pending.set(layer, images);
  }
  if (pending.size === 0) return;
  const graph = channels.reducing.model.graph;
  const upstream = new Map([...pending.keys()].map((l) => [l, ancestors(graph, [l])]));
  // Deepest first: a layer downstream of another has strictly more pending layers upstream.
  const depth = (l: string) => [...pending.keys()].filter((o) => o !== l && upstream.get(l)!.has(o)).length;
  const order = [...pending.keys()].sort((a, b) => depth(b) - depth(a));
  const input = index.model.input;
  const per = elementCount(input);
  // Batches keep the scan's size (zero-padded), which a model with a fixed batch dimension needs.
  const x = new Float32Array(options.batch * per);
  for (const layer of order) {
    const images = [...pending.get(layer)!].sort((a, b) => a - b);
    if (images.length === 0) continue;
    const layers = order.filter((l) => upstream.get(layer)!.has(l) && pending.get(l)!.size > 0);
    const fetch = layers.map((l) => {
      const o = channels.reducing.outputs[l];
      return o.rows ? [o.argmax, o.rows] : [o.argmax];
    });
    for (let b = 0; b < images.length; b += options.batch) {
      const chunk = images.slice(b, b + options.batch);
      await fillBatch(source, chunk, x, per, options.toInput);
      const out = await channels.reducer.run(
        {
          [channels.reducer.inputNames[0]]: { dtype: 'float32', dims: [options.batch, ...input], data: x },
          ...thresholdFeeds(channels.reducing, index),
        },
        { outputs: fetch.flat() },
      );
      const row = new Map(chunk.map((image, n) => [image, n]));
      for (const [k, l] of layers.entries()) {
        const info = index.layers[l];
        const [at, rows] = fetch[k];
        const argmax = rowPositions(
          out[at].data as Int32Array,
          rows ? (out[rows].data as Int32Array) : undefined,
          options.batch * info.channels,
        );
        for (const [c, list] of info.top.entries())
          for (const hit of list) {
            const n = row.get(hit.image);
            if (hit.y >= 0 || n === undefined) continue;
            const at = argmax[n * info.channels + c];
            hit.y = Math.floor(at / info.width);
            hit.x = at % info.width;
          }
        for (const image of chunk) pending.get(l)!.delete(image);
      }
    }
  }
}

/**
 * The position graph's threshold feeds for a batch whose first image is `first`: each channel's
 * entry threshold, or −∞ (every row) when `first` is undefined.
 */
function thresholdFeeds(
  reducing: ChannelReducer['reducing'],
  index: ScanIndex,
  first?: number,
): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const [layer, o] of Object.entries(reducing.outputs)) {
    if (!o.threshold) continue;
    const l = index.layers[layer];
    const data =
      first === undefined
        ? new Float32Array(l.channels).fill(-Infinity)
        : entryThresholds(l, index.top, first);
    feeds[o.threshold] = { dtype: 'float32', dims: [l.channels], data };
  }
  return feeds;
}

/**
 * The scan's two graphs, ready to run: summaries for every batch, reductions with positions for
 * resolving hits. Pass it to several `scan` calls to compile them once; `release()` when done.
 */
export interface ChannelReducer {
  summarizing: ReturnType<typeof withChannelSummaries>;
  summarizer: ConvlensModel;
  reducing: ReturnType<typeof withChannelReductions>;
  reducer: ConvlensModel;
  release(): Promise<void>;
}

export function channelReducer(model: ConvlensModel, layers: ScanIndex['layers']): ChannelReducer {
  const summarizing = withChannelSummaries(model.model, layers);
  const reducing = withChannelReductions(model.model, layers);
  const summarizer = new ConvlensModel(summarizing.model, model.backend, model.sessionOptions);
  const reducer = new ConvlensModel(reducing.model, model.backend, model.sessionOptions);
  return {
    summarizing,
    summarizer,
    reducing,
    reducer,
    release: async () => {
      await Promise.all([summarizer.release(), reducer.release()]);
    },
  };
}

/** The index's identity without its results: two indexes merge only when these agree. */
function identity(index: ScanIndex): string {
  return JSON.stringify({
    model: index.model,
    data: index.data,
    top: index.top,
    layers: Object.entries(index.layers)
      .map(([name, l]) => [name, l.channels, l.height, l.width])
      .sort(),
  });
}

/** Why `b` cannot continue or merge into `a`, or undefined when it can. */
export function incompatibility(a: ScanIndex, b: ScanIndex): string | undefined {
  if (identity(a) === identity(b)) return undefined;
  if (a.model.sha256 !== b.model.sha256)
    return `they scan different models (${a.model.name} vs ${b.model.name})`;
  if (JSON.stringify(a.data) !== JSON.stringify(b.data))
    return `they scan different data (${a.data.spec}/${a.data.split} vs ${b.data.spec}/${b.data.split})`;
  if (a.top !== b.top) return `they keep different top-k (${a.top} vs ${b.top})`;
  return `they scan different layers (${Object.keys(a.layers).join(', ')} vs ${Object.keys(b.layers).join(', ')})`;
}

/**
 * Merge indexes of disjoint shards of the same scan into one; the result equals one scan of the union.
 *
 * @example
 * ```ts
 * const full = mergeIndexes([shard0, shard1]); // scanned 0:5000 and 5000:10000
 * ```
 */
export function mergeIndexes(indexes: readonly ScanIndex[]): ScanIndex {
  if (indexes.length === 0) throw new Error('nothing to merge');
  const [first] = indexes;
  const out: ScanIndex = structuredClone(first);
  for (const next of indexes.slice(1)) {
    const why = incompatibility(out, next);
    if (why) throw new Error(`cannot merge: ${why}`);
    for (const [s, e] of next.scanned) {
      const overlap = out.scanned.find(([a, b]) => a < e && s < b);
      if (overlap)
        throw new Error(
          `cannot merge: shards overlap on images ${Math.max(s, overlap[0])}:${Math.min(e, overlap[1])}`,
        );
      out.scanned = addInterval(out.scanned, s, e);
    }
    for (const [name, l] of Object.entries(next.layers)) {
      const target = out.layers[name];
      for (const [c, hits] of l.top.entries()) for (const h of hits) offer(target.top[c], h, out.top);
      target.classSumsLow ??= new Array(target.classSums.length).fill(0);
      mergeExact(target.classSums, target.classSumsLow, l.classSums, l.classSumsLow);
    }
    for (const [i, v] of next.classCounts.entries()) out.classCounts[i] += v;
  }
  return out;
}

/** Check that parsed JSON is a scan index; errors name the file and the first problem. */
export function checkIndex(value: unknown, source: string): ScanIndex {
  const fail = (why: string): never => {
    throw new Error(`"${source}" is not a convlens scan index: ${why}`);
  };
  if (typeof value !== 'object' || value === null) fail('not a JSON object');
  const v = value as Partial<ScanIndex>;
  if (v.format !== SCAN_FORMAT) fail(`format is ${JSON.stringify(v.format)}, expected "${SCAN_FORMAT}"`);
  if (v.version !== SCAN_VERSION)
    fail(`version ${v.version} is not supported (this convlens reads ${SCAN_VERSION})`);
  if (!v.model?.sha256 || !Array.isArray(v.model.input)) fail('model is missing its sha256 or input shape');
  if (!v.data || !Array.isArray(v.data.classes) || !Number.isInteger(v.data.length) || !v.data.preprocessing)
    fail('data is incomplete (classes, length or preprocessing missing)');
  if (!Number.isInteger(v.top) || (v.top as number) < 1) fail('top must be a positive integer');
  if (!Array.isArray(v.scanned) || !Array.isArray(v.classCounts)) fail('scanned or classCounts is missing');
  if (v.classCounts!.length !== v.data!.classes.length) fail('classCounts does not have one entry per class');
  if (typeof v.layers !== 'object' || v.layers === null || Object.keys(v.layers).length === 0)
    fail('no layers');
  for (const [name, l] of Object.entries(v.layers!)) {
    if (!Array.isArray(l.top) || l.top.length !== l.channels)
      fail(`layer "${name}" does not list ${l.channels} channels`);
    if (!Array.isArray(l.classSums) || l.classSums.length !== l.channels * v.classCounts!.length)
      fail(`layer "${name}" classSums has the wrong length`);
    if (l.classSumsLow !== undefined && l.classSumsLow.length !== l.classSums.length)
      fail(`layer "${name}" classSumsLow has the wrong length`);
    for (const hits of l.top)
      for (const h of hits)
        if (
          !Number.isInteger(h.image) ||
          h.image < 0 ||
          h.image >= v.data!.length ||
          !(h.y >= 0 && h.y < l.height && h.x >= 0 && h.x < l.width) ||
          typeof h.value !== 'number'
        )
          fail(`layer "${name}" has a hit outside the data or the map: ${JSON.stringify(h)}`);
  }
  return v as ScanIndex;
}

/** Mean activation per class and channel, [classes][channels] (NaN-free: classes with no images are 0). */
export function classMeans(index: ScanIndex, layer: string): number[][] {
  const l = index.layers[layer];
  return index.classCounts.map((n, k) =>
    Array.from({ length: l.channels }, (_, c) => (n > 0 ? l.classSums[k * l.channels + c] / n : 0)),
  );
}

/**
 * Class selectivity of each channel (Morcos et al. 2018): (μ_class − μ_rest) / (|μ_class| + |μ_rest|),
 * where μ_rest is the mean over the other classes; 1 fires for one class only, 0 for all alike.
 */
export function selectivity(means: number[][]): number[][] {
  const k = means.length;
  return means.map((row, cls) =>
    row.map((m, c) => {
      if (k < 2) return 0;
      let rest = 0;
      for (let o = 0; o < k; o++) if (o !== cls) rest += means[o][c];
      rest /= k - 1;
      const denom = Math.abs(m) + Math.abs(rest);
      return denom > 0 ? (m - rest) / denom : 0;
    }),
  );
}
