/**
 * A faithfulness evaluation's numbers per sample, before any mean is taken. Measures of
 * consecutive ranges of a batch concatenate into the whole batch's, and the report is computed from
 * them, so a run split into shards reports exactly what one run over every sample reports.
 */
import { confidenceSummary } from './confidence.js';
import { meanOfScored } from './pointingGame.js';
import {
  meanSimilarities,
  type RandomizationStage,
  type SampleRandomizationStage,
  type SampleSimilarities,
  type Similarity,
} from './randomization.js';

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

/** What a report and its per-sample measures both say of the evaluation. */
interface FaithfulnessSettings {
  samples: number;
  methods: string[];
  metrics: MetricName[];
  /** Metrics left out of 'all', and why. */
  skipped: Record<string, string>;
  layer?: string;
  /** The target's label per sample. */
  target: string[];
  params: Record<string, unknown>;
}

export interface FaithfulnessReport extends FaithfulnessSettings {
  rows: MethodFaithfulness[];
  cascading?: RandomizationStage[];
  independent?: RandomizationStage[];
  /** Per method, the similarity of the shuffled-label model's maps to the model's. */
  dataRandomization?: Record<string, Similarity>;
  ms: number;
}

/** Per sample: each curve's points ([samples × points], row-major) and its area. */
export interface SampleCurves {
  fractions: number[];
  scores: number[];
  auc: number[];
}

/** One method's numbers per sample, metric by metric. */
export interface MethodMeasures {
  method: string;
  deletion?: SampleCurves;
  insertion?: SampleCurves;
  /** Y (the image's score) and O (the map-weighted image's). */
  confidence?: { original: number[]; explained: number[] };
  /** [samples × fractions] each, and per sample the mean of LeRF − MoRF. */
  road?: { fractions: number[]; morf: number[]; lerf: number[]; gap: number[] };
  /** NaN for a sample without a mask. */
  pointing?: { hits: number[]; energy: number[] };
}

export interface FaithfulnessMeasures extends FaithfulnessSettings {
  rows: MethodMeasures[];
  cascading?: SampleRandomizationStage[];
  independent?: SampleRandomizationStage[];
  dataRandomization?: Record<string, SampleSimilarities>;
}

const meanOf = (v: readonly number[]) => {
  let s = 0;
  for (const x of v) s += x;
  return s / v.length;
};

/** Column means of an [n × k] array. */
function columnMeans(values: readonly number[], n: number, k: number): number[] {
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
 * The report of per-sample measures: every mean over samples, taken in sample order.
 *
 * @example
 * ```ts
 * const report = summarizeFaithfulness(concatFaithfulnessMeasures([first, second]), ms);
 * ```
 */
export function summarizeFaithfulness(m: FaithfulnessMeasures, ms: number): FaithfulnessReport {
  const n = m.samples;
  const rows = m.rows.map((r): MethodFaithfulness => {
    const row: MethodFaithfulness = { method: r.method, scores: {} };
    for (const kind of ['deletion', 'insertion'] as const) {
      const c = r[kind];
      if (!c) continue;
      row.scores[kind] = meanOf(c.auc);
      row[kind] = { fractions: c.fractions, mean: columnMeans(c.scores, n, c.fractions.length) };
    }
    if (r.confidence) {
      const c = confidenceSummary(r.confidence.original, r.confidence.explained);
      row.scores.averageDrop = c.averageDrop;
      row.scores.increase = c.increase;
    }
    if (r.road) {
      const f = r.road.fractions.length;
      const morf = columnMeans(r.road.morf, n, f);
      const lerf = columnMeans(r.road.lerf, n, f);
      row.scores.roadMorf = meanOf(morf);
      row.scores.roadLerf = meanOf(lerf);
      row.scores.roadGap = meanOf(r.road.gap);
      row.road = { fractions: r.road.fractions, morf, lerf };
    }
    if (r.pointing) {
      if (m.metrics.includes('pointing')) row.scores.pointing = meanOfScored(r.pointing.hits);
      if (m.metrics.includes('energy')) row.scores.energy = meanOfScored(r.pointing.energy);
    }
    return row;
  });
  const report: FaithfulnessReport = {
    samples: n,
    methods: m.methods,
    metrics: m.metrics,
    skipped: m.skipped,
    layer: m.layer,
    target: m.target,
    params: m.params,
    rows,
    ms,
  };
  for (const mode of ['cascading', 'independent'] as const) {
    const measured = m[mode];
    if (!measured) continue;
    const stages = measured.map((s) => ({ randomized: s.randomized, methods: meanSimilarities(s.methods) }));
    report[mode] = stages;
    for (const row of rows)
      if (stages[0]?.methods[row.method]) row.scores[mode] = stageMean(stages, row.method);
  }
  if (m.dataRandomization) {
    const similarity = meanSimilarities(m.dataRandomization);
    report.dataRandomization = similarity;
    for (const row of rows)
      if (similarity[row.method]) row.scores.dataRandomization = similarity[row.method].spearmanAbs;
  }
  return report;
}

/** What must agree between the measures of two ranges of one evaluation. */
const settingsOf = (m: FaithfulnessMeasures) =>
  JSON.stringify([
    m.methods,
    m.metrics,
    m.skipped,
    m.layer ?? null,
    m.params,
    m.rows.map((r) => Object.keys(r)),
    m.cascading?.map((s) => s.randomized) ?? null,
    m.independent?.map((s) => s.randomized) ?? null,
    Object.keys(m.dataRandomization ?? {}),
  ]);

const concatArrays = <T>(parts: T[][]): T[] => ([] as T[]).concat(...parts);

function concatSimilarities(parts: SampleSimilarities[]): SampleSimilarities {
  return {
    spearmanAbs: concatArrays(parts.map((p) => p.spearmanAbs)),
    spearmanSigned: concatArrays(parts.map((p) => p.spearmanSigned)),
    ssim: concatArrays(parts.map((p) => p.ssim)),
    hog: concatArrays(parts.map((p) => p.hog)),
  };
}

function concatRecords(parts: Record<string, SampleSimilarities>[]): Record<string, SampleSimilarities> {
  return Object.fromEntries(
    Object.keys(parts[0]).map((k) => [k, concatSimilarities(parts.map((p) => p[k]))]),
  );
}

function concatStages(parts: SampleRandomizationStage[][]): SampleRandomizationStage[] {
  return parts[0].map((s, k) => ({
    randomized: s.randomized,
    methods: concatRecords(parts.map((p) => p[k].methods)),
  }));
}

/**
 * The measures of consecutive ranges of samples, in order, as one range's; throws when they come
 * from evaluations with other methods, metrics or parameters.
 *
 * @example
 * ```ts
 * concatFaithfulnessMeasures([measuresOf0to32, measuresOf32to64]).samples; // 64
 * ```
 */
export function concatFaithfulnessMeasures(parts: FaithfulnessMeasures[]): FaithfulnessMeasures {
  if (parts.length === 0) throw new Error('no faithfulness measures to join');
  const [first] = parts;
  const settings = settingsOf(first);
  for (const p of parts.slice(1))
    if (settingsOf(p) !== settings)
      throw new Error(
        'the faithfulness measures come from evaluations with different methods, metrics or parameters',
      );
  const rows = first.rows.map((r, j): MethodMeasures => {
    const all = parts.map((p) => p.rows[j]);
    const curves = (kind: 'deletion' | 'insertion'): SampleCurves | undefined =>
      r[kind] && {
        fractions: r[kind].fractions,
        scores: concatArrays(all.map((a) => a[kind]!.scores)),
        auc: concatArrays(all.map((a) => a[kind]!.auc)),
      };
    const joined: MethodMeasures = { method: r.method };
    if (r.deletion) joined.deletion = curves('deletion');
    if (r.insertion) joined.insertion = curves('insertion');
    if (r.confidence)
      joined.confidence = {
        original: concatArrays(all.map((a) => a.confidence!.original)),
        explained: concatArrays(all.map((a) => a.confidence!.explained)),
      };
    if (r.road)
      joined.road = {
        fractions: r.road.fractions,
        morf: concatArrays(all.map((a) => a.road!.morf)),
        lerf: concatArrays(all.map((a) => a.road!.lerf)),
        gap: concatArrays(all.map((a) => a.road!.gap)),
      };
    if (r.pointing)
      joined.pointing = {
        hits: concatArrays(all.map((a) => a.pointing!.hits)),
        energy: concatArrays(all.map((a) => a.pointing!.energy)),
      };
    return joined;
  });
  const joined: FaithfulnessMeasures = {
    ...first,
    samples: parts.reduce((n, p) => n + p.samples, 0),
    target: concatArrays(parts.map((p) => p.target)),
    rows,
  };
  for (const mode of ['cascading', 'independent'] as const)
    if (first[mode]) joined[mode] = concatStages(parts.map((p) => p[mode]!));
  if (first.dataRandomization)
    joined.dataRandomization = concatRecords(parts.map((p) => p.dataRandomization!));
  return joined;
}
