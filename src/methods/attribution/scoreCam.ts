/**
 * Score-CAM: weigh each channel by the target's score on the input masked by that channel's
 * upsampled, min-max normalised map: H_k = norm(up(A_k)), s_k = softmax(f(x ⊙ H_k))_c, map =
 * ReLU(Σ_k s_k A_k) (Wang et al. 2020, eqs. 3–6; for a channel or neuron target s_k is the raw
 * objective). Masked copies run in batches; channels whose map is zero everywhere are skipped.
 */
import { Emitter } from '../../autodiff/emitter.js';
import { resizeImage } from '../../data/dataset.js';
import { softmax } from '../../maths/softmax.js';
import { cloneModel, type Model } from '../../onnx/model.js';
import { float32, type Tensor } from '../../onnx/tensor.js';
import { weightedSum } from './camPipeline.js';
import type { AttributionMethod } from './method.js';
import type { MethodRun } from './pipeline.js';
import { objectiveValues } from './target.js';

/** Inputs of the masking model: one image [1, C, H, W] and the channel maps of its rows [B, 1, h, w]. */
export const SCORE_CAM_IMAGE = 'score-cam/image';
export const SCORE_CAM_MAPS = 'score-cam/maps';

/**
 * Rᵀ [from, to] of bilinear resampling along one axis (half-pixel centres, edges replicated):
 * resizeImage applied to the identity, so it is exactly the upsampling the renderer uses.
 */
export function interpolationTransposed(from: number, to: number): Float32Array {
  const identity = Float32Array.from({ length: from * from }, (_, i) => (i % (from + 1) === 0 ? 1 : 0));
  return resizeImage(identity, from, 1, from, 1, to);
}

/**
 * The outputs of a resampling Rᵀ [from, to] whose min and max bound every output: each output is a
 * two-tap convex combination t·v_a + (1 − t)·v_{a+1}, linear in t, so over the outputs sharing
 * taps (a, a+1) the extremes sit at the smallest and largest t. Every output when a column of Rᵀ
 * is not of that form.
 */
export function extremeOutputs(rT: Float32Array, from: number, to: number): number[] {
  const groups = new Map<number, { lo: [number, number]; hi: [number, number] }>();
  for (let i = 0; i < to; i++) {
    const taps: number[] = [];
    for (let a = 0; a < from; a++) if (rT[a * to + i] !== 0) taps.push(a);
    if (taps.length === 0 || taps.length > 2 || (taps.length === 2 && taps[1] !== taps[0] + 1))
      return Array.from({ length: to }, (_, j) => j);
    const key = taps.length === 1 ? taps[0] * 2 : taps[0] * 2 + 1;
    const t = rT[taps[0] * to + i];
    const g = groups.get(key);
    if (!g) groups.set(key, { lo: [t, i], hi: [t, i] });
    else {
      if (t < g.lo[0]) g.lo = [t, i];
      if (t > g.hi[0]) g.hi = [t, i];
    }
  }
  return [...new Set([...groups.values()].flatMap((g) => [g.lo[1], g.hi[1]]))].sort((a, b) => a - b);
}

/** Columns `keep` of Rᵀ [from, to], as [from, keep.length]. */
function columns(rT: Tensor, keep: number[]): Tensor {
  const [from, to] = rT.dims;
  const data = rT.data as Float32Array;
  const out = new Float32Array(from * keep.length);
  for (let a = 0; a < from; a++)
    for (const [j, i] of keep.entries()) out[a * keep.length + j] = data[a * to + i];
  return float32(out, [from, keep.length]);
}

/**
 * The model behind a prefix that masks an image by each row's map, all in onnxruntime:
 * up(map) = R_H · map · R_Wᵀ (bilinear upsampling to H×W as two MatMuls), min-max normalised per
 * row (0 where the map is flat), and the model's input = image ⊙ mask (one Mul broadcast over
 * rows and channels), so the image is fed once rather than copied into every row. Since R's rows
 * sum to 1, up((map − lo)·s) = (up(map) − lo)·s: the normalisation runs on the small map, with lo
 * and hi, the extremes of up(map), read at the outputs `extremeOutputs` picks.
 */
export function withScoreCamMasks(model: Model, size: [number, number], mapSize: [number, number]): Model {
  const [height, width] = size;
  const [h, w] = mapSize;
  const out = cloneModel(model);
  const input = out.graph.inputs[0];
  const emit = new Emitter(out.opsets[''] ?? 13, 'score-cam');
  const rHT = float32(interpolationTransposed(h, height), [h, height]);
  const rWT = float32(interpolationTransposed(w, width), [w, width]);
  // R_H · x · R_Wᵀ from Rᵀ constants; R_H as a Transpose, which onnxruntime folds when the session starts.
  const upsample = (x: string, hT: Tensor, wT: Tensor) =>
    emit.op('MatMul', [
      emit.transpose(emit.constant(hT, 'rh'), [1, 0]),
      emit.op('MatMul', [x, emit.constant(wT, 'rw')]),
    ]);
  const keepH = extremeOutputs(rHT.data as Float32Array, h, height);
  const keepW = extremeOutputs(rWT.data as Float32Array, w, width);
  const corners = upsample(SCORE_CAM_MAPS, columns(rHT, keepH), columns(rWT, keepW));
  const lo = emit.reduceMin(corners, [2, 3]);
  const hi = emit.reduceMax(corners, [2, 3]);
  const range = emit.sub(hi, lo);
  // A map flat to float32 rounding (range ≤ 1e-5·(|lo| + |hi|)) gets mask 0, not its rounding noise stretched to [0, 1].
  const tolerance = emit.mul(emit.add(emit.op('Abs', [lo]), emit.op('Abs', [hi])), emit.scalar(1e-5));
  const scale = emit.where(
    emit.op('Greater', [range, tolerance]),
    emit.op('Reciprocal', [range]),
    emit.scalar(0),
  );
  const mask = upsample(emit.mul(emit.sub(SCORE_CAM_MAPS, lo), scale), rHT, rWT);
  emit.nodes.push({
    name: 'score-cam/masked',
    opType: 'Mul',
    domain: '',
    inputs: [SCORE_CAM_IMAGE, mask],
    outputs: [input.name],
    attrs: {},
  });
  out.graph.nodes.unshift(...emit.nodes);
  for (const [k, v] of emit.initializers) out.graph.initializers.set(k, v);
  const [c] = (input.shape ?? []).slice(1);
  // Every dimension but the rows is declared, so onnxruntime knows every shape after the Mul.
  out.graph.inputs = [
    { name: SCORE_CAM_IMAGE, dtype: 'float32', shape: [1, c ?? null, ...size] },
    { name: SCORE_CAM_MAPS, dtype: 'float32', shape: ['rows', 1, h, w] },
    ...out.graph.inputs.slice(1),
  ];
  return out;
}

export const scoreCam: AttributionMethod = {
  name: 'score-cam',
  title: 'Score-CAM',
  reference: 'Wang et al. 2020, eqs. 3–6',
  resolution: 'layer',
  needsLayer: true,
  defaults: {},
  async run(run: MethodRun) {
    const e = run.explainer;
    const layer = run.layer!;
    const [n, , height, width] = run.input.dims;
    const [channels, h, w] = await e.sampleDims(layer);
    const area = h * w;
    const a = (await e.activations(layer, run.input)).data as Float32Array;
    const masking = e.model.derived(`score-cam|${height},${width}|${h},${w}`, (m) =>
      withScoreCamMasks(m, [height, width], [h, w]),
    );
    const isClass = run.target.classes !== undefined;
    const outputs = [run.target.tensor];
    const scores = new Float64Array(n * channels);
    // A channel whose map is zero everywhere adds s_k · 0 to the sum whatever its score, so its
    // masked copy is not run (exact; ReLU layers often leave many channels dead on an image).
    const live: number[][] = Array.from({ length: n }, () => []);
    for (let r = 0; r < n * channels; r++) {
      let j = r * area;
      const end = j + area;
      while (j < end && a[j] === 0) j++;
      if (j < end) live[Math.floor(r / channels)].push(r);
    }
    const total = live.reduce((sum, rows) => sum + rows.length, 0);
    const per = e.rowSize;
    const x = run.input.data as Float32Array;
    let done = 0;
    // Each image's rows run in their own chunks, so the image is broadcast rather than gathered.
    for (const [i, rows] of live.entries()) {
      if (rows.length === 0) continue;
      const image: Tensor = {
        ...run.input,
        dims: [1, ...run.input.dims.slice(1)],
        data: x.subarray(i * per, (i + 1) * per),
      };
      await e.forwardRows(
        rows.length,
        [
          {
            name: SCORE_CAM_MAPS,
            dims: [1, h, w],
            fill: (row, out, offset) => out.set(a.subarray(rows[row] * area, (rows[row] + 1) * area), offset),
          },
        ],
        outputs,
        (result, start, count) => {
          const t = result[run.target.tensor];
          if (isClass) {
            const k = t.dims[t.dims.length - 1];
            const d = t.data as Float32Array;
            for (let q = 0; q < count; q++)
              scores[rows[start + q]] = softmax(d.subarray(q * k, (q + 1) * k))[run.target.classes![i]];
          } else {
            const weights = run.target.weights(
              Array.from({ length: t.dims[0] }, (_, q) => (q < count ? i : -1)),
            );
            const v = objectiveValues(t, weights);
            for (let q = 0; q < count; q++) scores[rows[start + q]] = v[q];
          }
        },
        (d) => run.progress(done + d, total),
        masking,
        { [SCORE_CAM_IMAGE]: image },
      );
      done += rows.length;
    }
    const data = new Float32Array(n * area);
    for (let i = 0; i < n; i++) {
      const weights = Float32Array.from(scores.subarray(i * channels, (i + 1) * channels));
      data.set(
        weightedSum(a.subarray(i * channels * area, (i + 1) * channels * area), weights, channels, area),
        i * area,
      );
    }
    return {
      data,
      dims: [n, 1, h, w],
      diagnostics: { maskedRows: live.map((rows) => rows.length), channels: [channels] },
    };
  },
};
