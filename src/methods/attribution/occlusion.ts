/**
 * Occlusion: slide a window of `baseline` values over the image and record how much the target
 * drops, f(x) − f(x with the window hidden); each pixel gets the mean drop over the windows that
 * cover it (Zeiler & Fergus 2014, §4.2 "Occlusion Sensitivity"; averaging as in Captum's Occlusion).
 * All channels are hidden together, so the map is [N, 1, H, W]. Occluded copies run in batches.
 */
import { type AttributionMethod, checkInteger, checkNumber } from './method.js';
import type { MethodRun } from './pipeline.js';

export interface OcclusionParams {
  /** Window side in pixels (0: an eighth of the shorter side, at least 2). */
  window: number;
  /** Step between windows (0: half the window). */
  stride: number;
  /** The value hidden pixels take, in the model's input space (0 is the mean under mean/std normalisation). */
  baseline: number;
}

/** Window origins along an axis of `size`: 0, s, 2s, … and the last one flush with the edge. */
export function windowOrigins(size: number, window: number, stride: number): number[] {
  const out: number[] = [];
  for (let o = 0; o + window <= size; o += stride) out.push(o);
  if (out.length === 0 || out[out.length - 1] + window < size) out.push(Math.max(0, size - window));
  return out;
}

export function occlusionGeometry(
  h: number,
  w: number,
  p: OcclusionParams,
): { window: number; stride: number } {
  const window = p.window || Math.max(2, Math.round(Math.min(h, w) / 8));
  const stride = p.stride || Math.max(1, Math.floor(window / 2));
  return { window, stride };
}

export const occlusion: AttributionMethod<OcclusionParams> = {
  name: 'occlusion',
  title: 'Occlusion',
  reference: 'Zeiler & Fergus 2014, §4.2',
  resolution: 'input',
  needsLayer: false,
  defaults: { window: 0, stride: 0, baseline: 0 },
  validate(p) {
    checkInteger('occlusion', 'window', p.window, 0);
    checkInteger('occlusion', 'stride', p.stride, 0);
    checkNumber('occlusion', 'baseline', p.baseline, Number.NEGATIVE_INFINITY);
  },
  async run(run: MethodRun, p) {
    const e = run.explainer;
    const [n, c, h, w] = run.input.dims;
    const { window, stride } = occlusionGeometry(h, w, p);
    if (window > Math.min(h, w))
      throw new Error(`occlusion: window ${window} is larger than the ${h}×${w} input`);
    const ys = windowOrigins(h, window, stride);
    const xs = windowOrigins(w, window, stride);
    const positions = ys.length * xs.length;
    const per = c * h * w;
    const x = run.input.data as Float32Array;
    // Row r < n: sample r unchanged; row n + i·P + q: sample i with window q hidden.
    const rows = n + n * positions;
    const sampleOf = (r: number) => (r < n ? r : Math.floor((r - n) / positions));
    const values = await e.objectiveRows(
      rows,
      (r, out, offset) => {
        const i = sampleOf(r);
        out.set(x.subarray(i * per, (i + 1) * per), offset);
        if (r < n) return;
        const q = (r - n) % positions;
        const y0 = ys[Math.floor(q / xs.length)];
        const x0 = xs[q % xs.length];
        for (let ch = 0; ch < c; ch++)
          for (let y = y0; y < y0 + window; y++) {
            const o = offset + ch * h * w + y * w + x0;
            out.fill(p.baseline, o, o + window);
          }
      },
      sampleOf,
      run.target,
      run.progress,
    );
    const data = new Float32Array(n * h * w);
    const cover = new Float32Array(h * w);
    for (const y0 of ys)
      for (const x0 of xs)
        for (let y = y0; y < y0 + window; y++) for (let xx = x0; xx < x0 + window; xx++) cover[y * w + xx]++;
    for (let i = 0; i < n; i++) {
      for (let q = 0; q < positions; q++) {
        const drop = values[i] - values[n + i * positions + q];
        const y0 = ys[Math.floor(q / xs.length)];
        const x0 = xs[q % xs.length];
        for (let y = y0; y < y0 + window; y++)
          for (let xx = x0; xx < x0 + window; xx++) data[i * h * w + y * w + xx] += drop;
      }
      for (let j = 0; j < h * w; j++) if (cover[j] > 0) data[i * h * w + j] /= cover[j];
    }
    return {
      data,
      dims: [n, 1, h, w],
      params: { window, stride },
      diagnostics: { positions: [positions] },
    };
  },
};
