/**
 * The work behind `convlens explain` and `convlens report`: run the attribution methods on a batch
 * for each target, render every map, and gather per-sample records. Nothing is written here.
 */
import type { ModelCard } from '../data/card.js';
import { encodeNpy } from '../data/npy.js';
import { type ExplainResult, explain } from '../methods/attribution/index.js';
import type { Box } from '../methods/attribution/localize.js';
import { type AttributionMap, Explainer, paramsOf } from '../methods/attribution/pipeline.js';
import type { Target } from '../methods/attribution/target.js';
import type { Layout } from '../onnx/layout.js';
import { type RenderedAttribution, type RenderOptions, renderAttribution } from '../render/attribution.js';
import type { ConvlensModel } from '../runtime/model.js';
import { inputNpy, stepProgress } from './common.js';
import type { ExplainInputs } from './inputs.js';
import { givesProbabilities, type Prediction, topClasses } from './predictions.js';

export interface ExplainJob {
  methods: string[];
  /** Targets with the text the user gave (used in file names when there are several). */
  targets: { text: string; target: Target }[];
  layer?: string;
  params: Record<string, object>;
  batch: number;
  seed: number;
  render: RenderOptions;
  quiet?: boolean;
}

export interface TargetRun {
  text: string;
  result: ExplainResult;
  /** rendered[m][i]: map m of sample i. */
  rendered: RenderedAttribution[][];
}

export interface ExplainOutcome {
  top: Prediction[][];
  runs: TargetRun[];
}

/** A live bar per long method on a terminal; silent otherwise. */
export async function runExplainJob(
  m: ConvlensModel,
  card: ModelCard,
  inputs: ExplainInputs,
  job: ExplainJob,
): Promise<ExplainOutcome> {
  const logits = card.tensors?.logits ?? m.outputNames[0];
  const progress = stepProgress(job.quiet ?? false);
  const explainer = new Explainer(m, inputs.input, {
    logits,
    classes: card.classes,
    features: card.tensors?.features,
    batch: job.batch,
    seed: job.seed,
    onProgress: progress.onProgress,
  });
  const runs: TargetRun[] = [];
  try {
    for (const t of job.targets) {
      const result = await explain(explainer, {
        methods: job.methods,
        target: t.target,
        layer: job.layer,
        params: job.params,
      });
      const rendered = result.maps.map((map) =>
        inputs.images.map((img, i) => renderAttribution(map, i, img, job.render)),
      );
      runs.push({ text: t.text, result, rendered });
    }
  } finally {
    progress.stop();
  }
  const top = topClasses(await explainer.logitValues(), card.classes, 5, givesProbabilities(m.model, logits));
  return { top, runs };
}

/**
 * The per-sample shape of a map: [C, H, W] (pixel methods; [H, W, C] for a channels-last model)
 * or [h, w] (layer maps).
 */
export function sampleShape(map: AttributionMap, layout?: Layout): number[] {
  const rest = map.dims.slice(1);
  if (map.resolution === 'layer') return rest.slice(1);
  return layout === 'nhwc' ? [rest[1], rest[2], rest[0]] : rest;
}

/** Sample i's diagnostics (per-sample lists reduced to their i-th value). */
export function sampleDiagnostics(map: AttributionMap, i: number): Record<string, unknown> | undefined {
  if (!map.diagnostics) return undefined;
  return Object.fromEntries(
    Object.entries(map.diagnostics).map(([k, v]) => [k, v.length === map.dims[0] ? v[i] : v]),
  );
}

/** Sample i's map as .npy bytes (float32, its per-sample shape; pixel maps in the model's layout). */
export function npyOf(map: AttributionMap, i: number, layout?: Layout): Uint8Array {
  const per = map.data.length / map.dims[0];
  const data = map.data.subarray(i * per, (i + 1) * per);
  if (map.resolution === 'layer') return encodeNpy(data, sampleShape(map));
  return inputNpy(data, map.dims.slice(1), layout);
}

/** The JSON record of one method for one sample. */
export function methodRecord(
  map: AttributionMap,
  i: number,
  rendered: RenderedAttribution,
  files: { png: string; npy: string },
  layout?: Layout,
) {
  return {
    resolution: map.resolution,
    shape: sampleShape(map, layout),
    layer: map.layer,
    target: map.target.labels[i],
    params: paramsOf(map, i),
    /** Time for the whole batch. */
    ms: Math.round(map.ms * 10) / 10,
    diagnostics: sampleDiagnostics(map, i),
    box: rendered.box as Box | undefined,
    boxThreshold: rendered.boxThreshold,
    files,
  };
}

/** A file-name-safe form of a target's text. */
export function targetSlug(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'target';
}
