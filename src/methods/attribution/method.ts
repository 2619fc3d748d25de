/** The strategy every attribution method implements (see pipeline.ts for the shared passes). */
import type { GradientRowsRequest, MethodRun } from './pipeline.js';

export interface MethodOutput {
  data: Float32Array;
  dims: number[];
  diagnostics?: Record<string, number[]>;
  /** Parameters as the method resolved them (a default's sentinel replaced by the value used). */
  params?: Record<string, unknown>;
  /** Resolved parameters that differ per sample (one value each), e.g. SmoothGrad's σ in input units. */
  sampleParams?: Record<string, number[]>;
}

export interface AttributionMethod<P extends object = object> {
  /** CLI name, e.g. 'gradcam++'. */
  readonly name: string;
  readonly title: string;
  /** Paper and equation the implementation follows. */
  readonly reference: string;
  /** 'input': a signed [N, C, H, W] map; 'layer': an [N, 1, h, w] map at a feature map's resolution. */
  readonly resolution: 'input' | 'layer';
  readonly needsLayer: boolean;
  /**
   * The gradient runs over the unchanged samples it makes (Explainer.sampleGradients), given only
   * when those are its only runs: then explain() shares them among the methods asked for, a 'top'
   * target is chosen inside the run, and the feature map comes from the run too.
   */
  sampleRuns?(input: string, layer?: string): GradientRowsRequest[];
  readonly defaults: P;
  /** Checks parameters; throws naming the bad one and its allowed values. */
  validate?(params: P): void;
  run(run: MethodRun, params: P): Promise<MethodOutput>;
}

/** Throw unless `value` is an integer in [min, max]. */
export function checkInteger(
  method: string,
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new Error(
      `${method}: ${name} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got ${String(value)}`,
    );
}

/** Throw unless `value` is a finite number in [min, max]. */
export function checkNumber(
  method: string,
  name: string,
  value: unknown,
  min: number,
  max = Number.POSITIVE_INFINITY,
): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw new Error(`${method}: ${name} must be a number in [${min}, ${max}], got ${String(value)}`);
}
