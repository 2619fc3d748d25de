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
import { float32 } from '../../onnx/tensor.js';
import { weightedSum } from './camPipeline.js';
import type { AttributionMethod } from './method.js';
import type { MethodRun } from './pipeline.js';
import { objectiveValues } from './target.js';

/**
 * Inputs of the masking model: the images [N, C, H, W], fed once; per row, the index of its image
 * [B] (float32, exact below 2²⁴) and a single channel map [B, 1, h, w].
 */
export const SCORE_CAM_IMAGES = 'score-cam/images';
export const SCORE_CAM_ROWS = 'score-cam/rows';
export const SCORE_CAM_MAPS = 'score-cam/maps';

/**
 * Rᵀ [from, to] of bilinear resampling along one axis (half-pixel centres, edges replicated):
 * resizeImage applied to the identity, so it is exactly the upsampling the renderer uses.
 */
function interpolationTransposed(from: number, to: number): Float32Array {
  const identity = Float32Array.from({ length: from * from }, (_, i) => (i % (from + 1) === 0 ? 1 : 0));
  return resizeImage(identity, from, 1, from, 1, to);
}

/**
 * The model behind a prefix that masks each row's image by the row's map, all in onnxruntime:
 * H = R_H · map · R_Wᵀ (bilinear upsampling to H×W as two MatMuls), min-max normalised per row
 * (0 where the map is flat), and the model's input = images[row] ⊙ H (Gather, then broadcast over
 * channels), so an image is fed once rather than copied into every row.
 */
export function withScoreCamMasks(model: Model, size: [number, number], mapSize: [number, number]): Model {
  const [height, width] = size;
  const [h, w] = mapSize;
  const out = cloneModel(model);
  const input = out.graph.inputs[0];
  const emit = new Emitter(out.opsets[''] ?? 13, 'score-cam');
  const rWT = emit.constant(float32(interpolationTransposed(w, width), [w, width]), 'rw');
  // R_H as a Transpose of a constant, which onnxruntime folds when the session starts.
  const rH = emit.transpose(
    emit.constant(float32(interpolationTransposed(h, height), [h, height]), 'rh'),
    [1, 0],
  );
  const up = emit.op('MatMul', [rH, emit.op('MatMul', [SCORE_CAM_MAPS, rWT])]);
  const lo = emit.reduceMin(up, [2, 3]);
  const hi = emit.reduceMax(up, [2, 3]);
  const range = emit.sub(hi, lo);
  // A map flat to float32 rounding (range ≤ 1e-5·(|lo| + |hi|)) gets mask 0, not its rounding noise stretched to [0, 1].
  const tolerance = emit.mul(emit.add(emit.op('Abs', [lo]), emit.op('Abs', [hi])), emit.scalar(1e-5));
  const scale = emit.where(
    emit.op('Greater', [range, tolerance]),
    emit.op('Reciprocal', [range]),
    emit.scalar(0),
  );
  const mask = emit.mul(emit.sub(up, lo), scale);
  const images = emit.op('Gather', [SCORE_CAM_IMAGES, emit.op('Cast', [SCORE_CAM_ROWS], { to: 7 })], {
    axis: 0,
  });
  emit.nodes.push({
    name: 'score-cam/masked',
    opType: 'Mul',
    domain: '',
    inputs: [images, mask],
    outputs: [input.name],
    attrs: {},
  });
  out.graph.nodes.unshift(...emit.nodes);
  for (const [k, v] of emit.initializers) out.graph.initializers.set(k, v);
  const [c] = (input.shape ?? []).slice(1);
  // Rows and maps share a named batch dimension, so onnxruntime knows every shape after the Mul.
  out.graph.inputs = [
    {
      name: SCORE_CAM_IMAGES,
      dtype: 'float32',
      shape: ['images', c ?? null, ...size],
    },
    { name: SCORE_CAM_ROWS, dtype: 'float32', shape: ['rows'] },
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
    const live: number[] = [];
    for (let r = 0; r < n * channels; r++) {
      const map = a.subarray(r * area, (r + 1) * area);
      if (map.some((v) => v !== 0)) live.push(r);
    }
    const imageOf = (row: number) => Math.floor(live[row] / channels);
    if (live.length > 0)
      await e.forwardRows(
        live.length,
        [
          {
            name: SCORE_CAM_ROWS,
            dims: [],
            fill: (row, out, offset) => {
              out[offset] = imageOf(row);
            },
          },
          {
            name: SCORE_CAM_MAPS,
            dims: [1, h, w],
            fill: (row, out, offset) => out.set(a.subarray(live[row] * area, (live[row] + 1) * area), offset),
          },
        ],
        outputs,
        (result, start, count) => {
          const t = result[run.target.tensor];
          if (isClass) {
            const k = t.dims[t.dims.length - 1];
            const d = t.data as Float32Array;
            for (let q = 0; q < count; q++)
              scores[live[start + q]] = softmax(d.subarray(q * k, (q + 1) * k))[
                run.target.classes![imageOf(start + q)]
              ];
          } else {
            const weights = run.target.weights(
              Array.from({ length: t.dims[0] }, (_, q) => (q < count ? imageOf(start + q) : -1)),
            );
            const v = objectiveValues(t, weights);
            for (let q = 0; q < count; q++) scores[live[start + q]] = v[q];
          }
        },
        run.progress,
        masking,
        { [SCORE_CAM_IMAGES]: run.input },
      );
    const data = new Float32Array(n * area);
    for (let i = 0; i < n; i++) {
      const weights = Float32Array.from(scores.subarray(i * channels, (i + 1) * channels));
      data.set(
        weightedSum(a.subarray(i * channels * area, (i + 1) * channels * area), weights, channels, area),
        i * area,
      );
    }
    const rows = Array.from(
      { length: n },
      (_, i) => live.filter((r) => Math.floor(r / channels) === i).length,
    );
    return { data, dims: [n, 1, h, w], diagnostics: { maskedRows: rows, channels: [channels] } };
  },
};
