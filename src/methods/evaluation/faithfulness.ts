/**
 * Every faithfulness metric over every attribution method on one batch, on the same footing: the
 * same images, the same targets (the original prediction), one row-batched scorer. The metrics
 * themselves are one file each and also take maps from anywhere (see planes.ts).
 */

import type { ConvlensModel } from '../../runtime/model.js';
import { explain, findMethod, METHOD_NAMES } from '../attribution/index.js';
import type { AttributionMap, Explainer } from '../attribution/pipeline.js';
import { scouterOf } from '../attribution/scouter.js';
import type { BoundTarget, Target } from '../attribution/target.js';
import { CONFIDENCE_SUBSTRATE, type ConfidenceOptions, confidenceChange } from './confidence.js';
import {
  type CurveOptions,
  DEFAULT_STEP,
  DEFAULT_SUBSTRATE,
  perturbationCurves,
  stepPixels,
} from './deletionInsertion.js';
import { checkScore, checkSubstrate, type Score } from './perturbation.js';
import { type ChannelReduction, planesOf, relevancePlanes } from './planes.js';
import { defaultTolerance, pointingGame } from './pointingGame.js';
import {
  parameterRandomization,
  type RandomizationStage,
  type Similarity,
  similarityOfMaps,
} from './randomization.js';
import { checkRoadOptions, ROAD_FRACTIONS, ROAD_NOISE, type RoadOptions, road } from './road.js';

export const METRICS = [
  'deletion',
  'insertion',
  'confidence',
  'road',
  'pointing',
  'energy',
  'cascading',
  'independent',
] as const;
export type MetricName = (typeof METRICS)[number];

/** Which way is better for each summary number. */
export const BETTER: Record<string, 'lower' | 'higher'> = {
  deletion: 'lower',
  insertion: 'higher',
  averageDrop: 'lower',
  increase: 'higher',
  roadMorf: 'lower',
  roadLerf: 'higher',
  roadGap: 'higher',
  pointing: 'higher',
  energy: 'higher',
  cascading: 'lower',
  independent: 'lower',
  dataRandomization: 'lower',
};

export interface FaithfulnessRequest {
  /** Method names or ['all']. */
  methods: string[];
  /** Metric names or ['all'] (pointing and energy only where masks are given). */
  metrics: string[];
  target?: Target;
  layer?: string;
  /** Method parameters, as for explain. */
  params?: Record<string, object>;
  /**
   * Maps made elsewhere, scored beside the methods' (per-image metrics only: a weight
   * randomisation needs the method that made them). Dims [N, C, H, W] or [N, H, W], any H, W.
   */
  external?: { name: string; data: Float32Array; dims: number[]; reduce?: ChannelReduction }[];
  /** Object masks per sample (height × width, 0/1), for the pointing games. */
  masks?: (Uint8Array | undefined)[];
  score?: Score;
  deletion?: CurveOptions;
  insertion?: CurveOptions;
  confidence?: ConfidenceOptions;
  road?: RoadOptions;
  /** Pointing-game tolerance in pixels (default 15 at 224 px, scaled). */
  tolerance?: number;
  /**
   * The same architecture trained on shuffled labels (the data randomisation test, Adebayo et al.
   * 2018, §3.2): its maps are compared with the model's like a randomised model's.
   */
  dataRandomized?: ConvlensModel;
  /** Seed of tie orders, imputation noise and random weights. */
  seed?: number;
  onProgress?: (p: { stage: string; done: number; total: number }) => void;
}

/** The mean deletion or insertion curve of one method. */
export interface MeanCurve {
  fractions: number[];
  mean: number[];
}

export interface MethodFaithfulness {
  method: string;
  /** Summary numbers (see BETTER for their direction). */
  scores: Partial<Record<keyof typeof BETTER, number>>;
  deletion?: MeanCurve;
  insertion?: MeanCurve;
  road?: { fractions: number[]; morf: number[]; lerf: number[] };
}

export interface FaithfulnessReport {
  samples: number;
  methods: string[];
  metrics: MetricName[];
  /** Metrics left out of 'all', and why. */
  skipped: Record<string, string>;
  layer?: string;
  target: string[];
  params: Record<string, unknown>;
  rows: MethodFaithfulness[];
  cascading?: RandomizationStage[];
  independent?: RandomizationStage[];
  /** Per method, the similarity of the shuffled-label model's maps to the model's. */
  dataRandomization?: Record<string, Similarity>;
  ms: number;
}

/** Parse a metric list ('all' or names); throws naming the valid ones. */
export function parseMetrics(list: string[]): MetricName[] {
  if (list.length === 1 && list[0] === 'all') return [...METRICS];
  if (list.length === 0) throw new Error(`no metric given; valid metrics: ${METRICS.join(', ')}`);
  for (const m of list)
    if (!(METRICS as readonly string[]).includes(m))
      throw new Error(`unknown metric "${m}"; valid metrics: ${METRICS.join(', ')}, or all`);
  return list as MetricName[];
}

const meanOf = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
};

/** Column means of an [n × k] array. */
function columnMeans(values: Float64Array, n: number, k: number): number[] {
  return Array.from({ length: k }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[i * k + j];
    return s / n;
  });
}

/** Mean Spearman ρ of |map| over the randomisation stages. */
const stageMean = (stages: RandomizationStage[], method: string) =>
  meanOf(stages.map((s) => s.methods[method].spearmanAbs));

/**
 * @example
 * ```ts
 * const report = await evaluateFaithfulness(new Explainer(model, x), {
 *   methods: ['saliency', 'gradcam'],
 *   metrics: ['deletion', 'insertion', 'pointing'],
 *   masks,
 * });
 * report.rows[1].scores.deletion; // Grad-CAM's mean deletion AUC
 * ```
 */
export async function evaluateFaithfulness(
  explainer: Explainer,
  request: FaithfulnessRequest,
): Promise<FaithfulnessReport> {
  const started = performance.now();
  const allMetrics = request.metrics.length === 1 && request.metrics[0] === 'all';
  let metrics = parseMetrics(request.metrics);
  const skipped: Record<string, string> = {};
  const hasMasks = request.masks?.some((m) => m?.some((v) => v > 0)) ?? false;
  for (const m of ['pointing', 'energy'] as const)
    if (metrics.includes(m) && !hasMasks) {
      if (!allMetrics)
        throw new Error(`metric "${m}" needs object masks (e.g. --data shapes); these samples have none`);
      skipped[m] = 'needs object masks; the data has none';
    }
  metrics = metrics.filter((m) => !(m in skipped));
  const [n, , h, w] = explainer.input.dims;
  if (request.masks && request.masks.length !== n)
    throw new Error(`${request.masks.length} masks for ${n} samples`);
  // 'all': every method that applies (SCOUTER only to SCOUTER models).
  const isScouter = scouterOf(explainer.model.model) !== undefined;
  const methods =
    request.methods.length === 1 && request.methods[0] === 'all'
      ? METHOD_NAMES.filter((m) => m !== 'scouter' || isScouter)
      : request.methods;
  methods.forEach(findMethod);
  const given = (request.external ?? []).map((m) => {
    if (methods.includes(m.name))
      throw new Error(`external maps "${m.name}" share a name with a method; rename the file`);
    const dims = m.dims.length === 3 ? [m.dims[0], 1, m.dims[1], m.dims[2]] : m.dims;
    if (dims[0] !== n) throw new Error(`external maps "${m.name}" hold ${dims[0]} maps for ${n} images`);
    // Maps at a lower resolution are upsampled, as layer maps are; another aspect ratio is no map of these images.
    if (dims.length === 4 && dims[2] * w !== dims[3] * h)
      throw new Error(
        `external maps "${m.name}" of ${dims[2]}×${dims[3]} do not match images of ${h}×${w} (nor a grid of the same aspect ratio)`,
      );
    return { name: m.name, planes: relevancePlanes(m.data, dims, h, w, m.reduce ?? 'abs-max') };
  });
  if (methods.length === 0 && given.length === 0) throw new Error('no method and no maps to score');
  const seed = request.seed ?? 0;
  const score = request.score ?? 'probability';
  for (const s of [request.deletion?.substrate, request.insertion?.substrate, request.confidence?.substrate])
    if (s !== undefined) checkSubstrate(s);
  // Every option is checked before any work starts.
  for (const kind of ['deletion', 'insertion'] as const)
    if (metrics.includes(kind)) stepPixels(request[kind]?.step ?? DEFAULT_STEP, h * w);
  if (metrics.includes('road')) checkRoadOptions(request.road ?? {});
  if (request.tolerance !== undefined && !(request.tolerance >= 0))
    throw new Error(`pointing-game tolerance must be a number of pixels ≥ 0, got ${request.tolerance}`);
  const progress = (stage: string, done: number, total: number) =>
    request.onProgress?.({ stage, done, total });
  const target: BoundTarget = await explainer.bind(request.target ?? { kind: 'top' });
  checkScore(score, target);
  const explained = await explain(explainer, {
    methods,
    target: request.target,
    layer: request.layer,
    params: request.params,
  });
  const maps: AttributionMap[] = explained.maps;
  const scored = [...maps.map((map) => ({ name: map.method, planes: planesOf(map, h, w) })), ...given];
  for (const [k, v] of Object.entries(explained.skipped)) skipped[k] = v;
  const rows: MethodFaithfulness[] = [];
  const perMethod = metrics.filter((m) => m !== 'cascading' && m !== 'independent');
  for (const { name, planes } of scored) {
    const row: MethodFaithfulness = { method: name, scores: {} };
    for (const metric of perMethod) {
      if (metric === 'deletion' || metric === 'insertion') {
        const c = await perturbationCurves(explainer, target, planes, metric, {
          score,
          seed,
          ...request[metric],
          onProgress: (done, total) => progress(`${name} ${metric}`, done, total),
        });
        row.scores[metric] = meanOf(c.auc);
        row[metric] = { fractions: c.fractions, mean: columnMeans(c.scores, n, c.fractions.length) };
      } else if (metric === 'confidence') {
        const c = await confidenceChange(explainer, target, planes, {
          score,
          ...request.confidence,
          onProgress: (done, total) => progress(`${name} average drop`, done, total),
        });
        row.scores.averageDrop = c.averageDrop;
        row.scores.increase = c.increase;
      } else if (metric === 'road') {
        const r = await road(explainer, target, planes, {
          score,
          seed,
          ...request.road,
          onProgress: (done, total) => progress(`${name} ROAD`, done, total),
        });
        const f = r.fractions.length;
        const morf = columnMeans(r.morf, n, f);
        const lerf = columnMeans(r.lerf, n, f);
        row.scores.roadMorf = meanOf(morf);
        row.scores.roadLerf = meanOf(lerf);
        row.scores.roadGap = meanOf(r.gap);
        row.road = { fractions: r.fractions, morf, lerf };
      } else if (metric === 'pointing' || metric === 'energy') {
        if (row.scores.pointing !== undefined || row.scores.energy !== undefined) continue;
        const p = pointingGame(planes, request.masks!, request.tolerance ?? defaultTolerance(h, w));
        if (metrics.includes('pointing')) row.scores.pointing = p.accuracy;
        if (metrics.includes('energy')) row.scores.energy = p.meanEnergy;
      }
    }
    rows.push(row);
  }
  const report: FaithfulnessReport = {
    samples: n,
    methods: scored.map((m) => m.name),
    metrics,
    skipped,
    layer: explained.layer,
    target: target.labels,
    params: {
      score,
      seed,
      deletion: { step: DEFAULT_STEP, substrate: DEFAULT_SUBSTRATE.deletion, ...request.deletion },
      insertion: { step: DEFAULT_STEP, substrate: DEFAULT_SUBSTRATE.insertion, ...request.insertion },
      confidence: { substrate: CONFIDENCE_SUBSTRATE, ...request.confidence },
      road: { fractions: ROAD_FRACTIONS, noise: ROAD_NOISE, ...request.road },
      tolerance: request.tolerance ?? defaultTolerance(h, w),
      methods: Object.fromEntries(maps.map((m) => [m.method, m.params])),
    },
    rows,
    ms: 0,
  };
  for (const mode of ['cascading', 'independent'] as const) {
    if (!metrics.includes(mode) || maps.length === 0) continue;
    const stages = await parameterRandomization(explainer, maps, {
      mode,
      seed: seed + 1,
      params: request.params,
      layer: explained.layer,
      target: request.target,
      onStage: (done, total) => progress(mode, done, total),
    });
    report[mode] = stages;
    for (const row of rows)
      if (stages[0]?.methods[row.method]) row.scores[mode] = stageMean(stages, row.method);
  }
  if (request.dataRandomized && maps.length > 0) {
    progress('data randomisation', 0, 1);
    const similarity = await similarityOfMaps(explainer, maps, request.dataRandomized, {
      target: request.target,
      layer: explained.layer,
      params: request.params,
    });
    report.dataRandomization = similarity;
    for (const row of rows)
      if (similarity[row.method]) row.scores.dataRandomization = similarity[row.method].spearmanAbs;
    progress('data randomisation', 1, 1);
  }
  report.ms = performance.now() - started;
  return report;
}
