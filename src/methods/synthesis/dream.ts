/**
 * DeepDream (Mordvintsev, Olah & Tyka 2015): amplify what a layer already sees by gradient ascent
 * on mean f² with L1-normalised steps and jitter, over octaves: the image is processed from a
 * small scale up, and the detail added at each scale is carried, upsampled, into the next.
 */
import type { Preprocessing } from '../../data/preprocess.js';
import { resizePlanes } from '../../maths/warp.js';
import type { ConvlensModel } from '../../runtime/model.js';
import type { ObjectiveTerm } from './objective.js';
import { synthesize } from './synthesize.js';

export interface DreamOptions {
  /** Scales (default 4); the smallest is size / octaveScale^(octaves − 1). */
  octaves?: number;
  /** Ratio between neighbouring octaves (default 1.4). */
  octaveScale?: number;
  /** Ascent steps per octave (default 10). */
  steps?: number;
  /** Step size: each step moves pixels by lr · g / mean|g| (default 0.01). */
  lr?: number;
  /** Random roll each step, in pixels (default 4). */
  jitter?: number;
  seed?: number;
  onStep?(p: { octave: number; octaves: number; step: number; steps: number; objective: number }): void;
}

export interface DreamResult {
  /** [1, C, H, W] in [0, 1], the input's size. */
  pixels: Float32Array;
  octaves: { size: [number, number]; objectiveStart: number; objectiveEnd: number }[];
  ms: number;
}

/**
 * Dream on `pixels` [1, C, H, W] (any size the objective's layers allow).
 *
 * @example
 * ```ts
 * const r = await dream(model, card.preprocessing, photo, [256, 256], parseObjective('dream:relu3', 'logits'));
 * ```
 */
export async function dream(
  model: ConvlensModel,
  preprocessing: Preprocessing,
  pixels: Float32Array,
  size: readonly [number, number],
  terms: readonly ObjectiveTerm[],
  options: DreamOptions = {},
): Promise<DreamResult> {
  const started = performance.now();
  const octaves = options.octaves ?? 4;
  const ratio = options.octaveScale ?? 1.4;
  if (!(Number.isInteger(octaves) && octaves >= 1))
    throw new Error(`octaves must be an integer ≥ 1, got ${octaves}`);
  if (!(ratio > 1)) throw new Error(`octave scale must be > 1, got ${ratio}`);
  const c = preprocessing.channels;
  const [h, w] = size;
  if (pixels.length !== c * h * w)
    throw new Error(`dream takes one image of ${c}×${h}×${w} values, got ${pixels.length}`);
  const sizes = Array.from({ length: octaves }, (_, k) => {
    const f = ratio ** (octaves - 1 - k);
    return [Math.max(1, Math.round(h / f)), Math.max(1, Math.round(w / f))] as [number, number];
  });
  const record: DreamResult['octaves'] = [];
  let detail: Float32Array | undefined;
  let previous: [number, number] | undefined;
  let current = pixels;
  for (const [k, s] of sizes.entries()) {
    const base = resizePlanes(pixels, c, h, w, s[0], s[1]);
    const start = Float32Array.from(base);
    if (detail && previous) {
      const up = resizePlanes(detail, c, previous[0], previous[1], s[0], s[1]);
      for (let i = 0; i < start.length; i++) start[i] = Math.min(1, Math.max(0, start[i] + up[i]));
    }
    const r = await synthesize(model, preprocessing, terms, {
      steps: options.steps ?? 10,
      size: s,
      init: start,
      optimizer: 'normalized',
      lr: options.lr ?? 0.01,
      jitter: options.jitter ?? 4,
      seed: (options.seed ?? 0) + k,
      onStep: (p) => options.onStep?.({ octave: k, octaves, ...p }),
    });
    record.push({ size: s, objectiveStart: r.trace[0].objective, objectiveEnd: r.trace.at(-1)!.objective });
    detail = r.pixels.map((v, i) => v - base[i]);
    previous = s;
    current = r.pixels;
  }
  return { pixels: current, octaves: record, ms: performance.now() - started };
}
