// Y = A_H · X · A_Wᵀ per (n, c) with interpolation matrices A (nearest, linear, cubic): dX = A_Hᵀ · dY · A_W
import { toNumbers } from '../../onnx/tensor.js';
import type { GradientRule, RuleContext } from '../rule.js';
import { transposedAlongAxis } from './shared/axisMatrix.js';

function sourceCoordinate(
  c: RuleContext,
  mode: string,
  x: number,
  inSize: number,
  outSize: number,
  scale: number,
): number {
  switch (mode) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return outSize > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return outSize === 1 ? 0 : (x * (inSize - 1)) / (outSize - 1);
    case 'asymmetric':
      return x / scale;
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / scale;
    default:
      throw c.unsupported(
        `coordinate_transformation_mode "${mode}" (supported: half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn)`,
      );
  }
}

function nearestIndex(c: RuleContext, mode: string, v: number): number {
  switch (mode) {
    case 'round_prefer_floor':
      return v - Math.floor(v) === 0.5 ? Math.floor(v) : Math.round(v);
    case 'round_prefer_ceil':
      return Math.round(v);
    case 'floor':
      return Math.floor(v);
    case 'ceil':
      return Math.ceil(v);
    default:
      throw c.unsupported(`nearest_mode "${mode}"`);
  }
}

/** Keys' cubic kernel with coefficient a at distance d ∈ [0, 2]. */
function cubicKernel(d: number, a: number): number {
  return d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
}

/** The [out, in] matrix of one axis. */
function interpolationMatrix(c: RuleContext, inSize: number, outSize: number, scale: number): Float32Array {
  const mode = c.string('mode', 'nearest');
  const coord = c.string('coordinate_transformation_mode', 'half_pixel');
  const a = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    const src = sourceCoordinate(c, coord, o, inSize, outSize, scale);
    if (mode === 'nearest') {
      const i = Math.min(
        Math.max(nearestIndex(c, c.string('nearest_mode', 'round_prefer_floor'), src), 0),
        inSize - 1,
      );
      a[o * inSize + i] = 1;
    } else if (mode === 'linear') {
      const s = Math.min(Math.max(src, 0), inSize - 1);
      const i0 = Math.floor(s);
      const i1 = Math.min(i0 + 1, inSize - 1);
      const t = s - i0;
      a[o * inSize + i0] += 1 - t;
      a[o * inSize + i1] += t;
    } else if (mode === 'cubic') {
      // Keys' cubic convolution over taps i0 − 1 … i0 + 2, indices clamped to the edge; with
      // exclude_outside the outside taps get weight 0 and the rest are renormalised.
      const coeff = c.float('cubic_coeff_a', -0.75);
      const exclude = c.int('exclude_outside', 0) === 1;
      const i0 = Math.floor(src);
      const t = src - i0;
      const taps = [i0 - 1, i0, i0 + 1, i0 + 2];
      const weights = [1 + t, t, 1 - t, 2 - t].map((d) => cubicKernel(d, coeff));
      const inside = taps.map((i) => !exclude || (i >= 0 && i < inSize));
      const total = weights.reduce((sum, v, k) => sum + (inside[k] ? v : 0), 0);
      taps.forEach((i, k) => {
        if (inside[k])
          a[o * inSize + Math.min(Math.max(i, 0), inSize - 1)] += weights[k] / (exclude ? total : 1);
      });
    } else {
      throw c.unsupported(`mode "${mode}" (supported: nearest, linear, cubic)`);
    }
  }
  return a;
}

export const Resize: GradientRule = {
  opType: 'Resize',
  emit(c) {
    if (c.opset < 11) throw c.unsupported('Resize before opset 11 is not supported');
    if (c.int('antialias', 0)) throw c.unsupported('antialias = 1 is not supported');
    if (c.node.attrs['axes']) throw c.unsupported('the axes attribute is not supported');
    const e = c.emit;
    const [xs, ys] = [c.shape(c.x(0)), c.shape(c.y(0))];
    const rank = xs.length;
    const scalesT = c.hasInput(2) ? c.constant(c.x(2)) : undefined;
    const scales = scalesT?.data.length ? toNumbers(scalesT) : ys.map((o, i) => o / xs[i]);
    let grad = c.dy(0);
    for (let axis = 0; axis < rank; axis++) {
      const identity = xs[axis] === ys[axis] && scales[axis] === 1;
      if (identity) continue;
      const a = interpolationMatrix(c, xs[axis], ys[axis], scales[axis]);
      grad = transposedAlongAxis(e, grad, axis, rank, a, ys[axis], xs[axis]);
    }
    c.dx(0, grad);
  },
};
