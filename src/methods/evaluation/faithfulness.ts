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
import {
  type FaithfulnessMeasures,
  type FaithfulnessReport,
  METRICS,
  type MethodMeasures,
  type MetricName,
  summarizeFaithfulness,
} from './faithfulnessMeasures.js';
import { checkScore, checkSubstrate, type Score } from './perturbation.js';
import { type ChannelReduction, planesOf, relevancePlanes } from './planes.js';
import { defaultTolerance, pointingGame } from './pointingGame.js';
import { parameterRandomizationBySample, similarityOfMapsBySample } from './randomization.js';
import { checkRoadOptions, ROAD_FRACTIONS, ROAD_NOISE, type RoadOptions, road } from './road.js';

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
  /**
   * Whether the whole batch has object masks, when the explainer holds a shard of it (default:
   * whether `masks` has any), so every shard scores the pointing games or none does.
   */
  masksInBatch?: boolean;
  /** Seed of tie orders, imputation noise and random weights. */
  seed?: number;
  onProgress?: (p: { stage: string; done: number; total: number }) => void;
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
  const measures = await measureFaithfulness(explainer, request);
  return summarizeFaithfulness(measures, performance.now() - started);
}

/**
 * Every metric's numbers per sample (see faithfulnessMeasures.ts): what `evaluateFaithfulness`
 * summarises, and what the shards of a split run return.
 *
 * @example
 * ```ts
 * const first = await measureFaithfulness(new Explainer(model, firstHalf), request);
 * const second = await measureFaithfulness(new Explainer(model, secondHalf, { firstSample: 16 }), request);
 * summarizeFaithfulness(concatFaithfulnessMeasures([first, second]), 0); // = the whole batch's report
 * ```
 */
export async function measureFaithfulness(
  explainer: Explainer,
  request: FaithfulnessRequest,
): Promise<FaithfulnessMeasures> {
  const allMetrics = request.metrics.length === 1 && request.metrics[0] === 'all';
  let metrics = parseMetrics(request.metrics);
  const skipped: Record<string, string> = {};
  const hasMasks = request.masksInBatch ?? request.masks?.some((m) => m?.some((v) => v > 0)) ?? false;
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
  const rows: MethodMeasures[] = [];
  const perMethod = metrics.filter((m) => m !== 'cascading' && m !== 'independent');
  for (const { name, planes } of scored) {
    const row: MethodMeasures = { method: name };
    for (const metric of perMethod) {
      if (metric === 'deletion' || metric === 'insertion') {
        const c = await perturbationCurves(explainer, target, planes, metric, {
          score,
          seed,
          ...request[metric],
          onProgress: (done, total) => progress(`${name} ${metric}`, done, total),
        });
        row[metric] = { fractions: c.fractions, scores: Array.from(c.scores), auc: c.auc };
      } else if (metric === 'confidence') {
        const c = await confidenceChange(explainer, target, planes, {
          score,
          ...request.confidence,
          onProgress: (done, total) => progress(`${name} average drop`, done, total),
        });
        row.confidence = { original: c.original, explained: c.explained };
      } else if (metric === 'road') {
        const r = await road(explainer, target, planes, {
          score,
          seed,
          ...request.road,
          onProgress: (done, total) => progress(`${name} ROAD`, done, total),
        });
        row.road = { fractions: r.fractions, morf: Array.from(r.morf), lerf: Array.from(r.lerf), gap: r.gap };
      } else if ((metric === 'pointing' || metric === 'energy') && !row.pointing) {
        const p = pointingGame(planes, request.masks!, request.tolerance ?? defaultTolerance(h, w));
        row.pointing = { hits: p.hits, energy: p.energy };
      }
    }
    rows.push(row);
  }
  const measures: FaithfulnessMeasures = {
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
  };
  for (const mode of ['cascading', 'independent'] as const) {
    if (!metrics.includes(mode) || maps.length === 0) continue;
    measures[mode] = await parameterRandomizationBySample(explainer, maps, {
      mode,
      seed: seed + 1,
      params: request.params,
      layer: explained.layer,
      target: request.target,
      onStage: (done, total) => progress(mode, done, total),
    });
  }
  if (request.dataRandomized && maps.length > 0) {
    progress('data randomisation', 0, 1);
    measures.dataRandomization = await similarityOfMapsBySample(explainer, maps, request.dataRandomized, {
      target: request.target,
      layer: explained.layer,
      params: request.params,
    });
    progress('data randomisation', 1, 1);
  }
  return measures;
}
