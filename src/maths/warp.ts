/**
 * Affine image warps with bilinear sampling, as a linear map with an explicit adjoint, so an
 * optimisation can push gradients back through random scale, rotation and translation.
 *
 * A plan samples every output pixel centre (x + ½, y + ½) at the source point A·(x + ½, y + ½, 1)
 * (source pixel centres at integer + ½). Taps outside the source either take a constant fill or
 * replicate the nearest edge pixel.
 */

/** Row-major 2×3 matrix: source = [a b c; d e f]·[x y 1]. */
export type Affine = readonly [number, number, number, number, number, number];

export interface WarpPlan {
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  /** Four source indices per output pixel (−1: outside, use the fill). */
  index: Int32Array;
  weight: Float32Array;
}

/** The identity map. */
export const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

/** a ∘ b: apply b first, then a. */
export function compose(a: Affine, b: Affine): Affine {
  return [
    a[0] * b[0] + a[1] * b[3],
    a[0] * b[1] + a[1] * b[4],
    a[0] * b[2] + a[1] * b[5] + a[2],
    a[3] * b[0] + a[4] * b[3],
    a[3] * b[1] + a[4] * b[4],
    a[3] * b[2] + a[4] * b[5] + a[5],
  ];
}

/**
 * The map from output coordinates to source coordinates for an image that is scaled by `scale`
 * and rotated by `degrees` about the centre, then shifted by (dy, dx) pixels, with the output
 * centre placed on the source centre (sizes may differ).
 */
export function similarity(
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  { scale = 1, degrees = 0, dy = 0, dx = 0 }: { scale?: number; degrees?: number; dy?: number; dx?: number },
): Affine {
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t) / scale;
  const sin = Math.sin(t) / scale;
  // source = R(−t)/s · (out − outCentre − shift) + inCentre
  const ox = outW / 2 + dx;
  const oy = outH / 2 + dy;
  return [cos, sin, inW / 2 - cos * ox - sin * oy, -sin, cos, inH / 2 + sin * ox - cos * oy];
}

/** Output = input resized to outH × outW (pixel-centre aligned, like align_corners = false). */
export function resizeAffine(inH: number, inW: number, outH: number, outW: number): Affine {
  return [inW / outW, 0, 0, 0, inH / outH, 0];
}

/** Sampling plan of `affine` from an inH × inW source to an outH × outW image. */
export function warpPlan(
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  affine: Affine,
  border: 'fill' | 'replicate',
): WarpPlan {
  const index = new Int32Array(outH * outW * 4);
  const weight = new Float32Array(outH * outW * 4);
  const [a, b, c, d, e, f] = affine;
  const at = (y: number, x: number) => {
    if (border === 'replicate') {
      return Math.min(inH - 1, Math.max(0, y)) * inW + Math.min(inW - 1, Math.max(0, x));
    }
    return y < 0 || y >= inH || x < 0 || x >= inW ? -1 : y * inW + x;
  };
  for (let y = 0; y < outH; y++)
    for (let x = 0; x < outW; x++) {
      const sx = a * (x + 0.5) + b * (y + 0.5) + c - 0.5;
      const sy = d * (x + 0.5) + e * (y + 0.5) + f - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const tx = sx - x0;
      const ty = sy - y0;
      const k = (y * outW + x) * 4;
      index[k] = at(y0, x0);
      index[k + 1] = at(y0, x0 + 1);
      index[k + 2] = at(y0 + 1, x0);
      index[k + 3] = at(y0 + 1, x0 + 1);
      weight[k] = (1 - tx) * (1 - ty);
      weight[k + 1] = tx * (1 - ty);
      weight[k + 2] = (1 - tx) * ty;
      weight[k + 3] = tx * ty;
    }
  return { inH, inW, outH, outW, index, weight };
}

/** Warp every plane of `planes` × inH × inW; taps outside take `fill(plane)`. */
export function applyWarp(
  plan: WarpPlan,
  src: Float32Array,
  planes: number,
  fill: (plane: number) => number = () => 0,
): Float32Array {
  const inArea = plan.inH * plan.inW;
  const outArea = plan.outH * plan.outW;
  const out = new Float32Array(planes * outArea);
  for (let p = 0; p < planes; p++) {
    const base = p * inArea;
    const v = fill(p);
    for (let j = 0; j < outArea; j++) {
      let s = 0;
      for (let t = 0; t < 4; t++) {
        const i = plan.index[j * 4 + t];
        s += plan.weight[j * 4 + t] * (i < 0 ? v : src[base + i]);
      }
      out[p * outArea + j] = s;
    }
  }
  return out;
}

/** The adjoint of `applyWarp` in the source (the fill is a constant): scatters output gradients back. */
export function warpAdjoint(plan: WarpPlan, grad: Float32Array, planes: number): Float32Array {
  const inArea = plan.inH * plan.inW;
  const outArea = plan.outH * plan.outW;
  const out = new Float32Array(planes * inArea);
  for (let p = 0; p < planes; p++)
    for (let j = 0; j < outArea; j++) {
      const g = grad[p * outArea + j];
      if (g === 0) continue;
      for (let t = 0; t < 4; t++) {
        const i = plan.index[j * 4 + t];
        if (i >= 0) out[p * inArea + i] += plan.weight[j * 4 + t] * g;
      }
    }
  return out;
}

/** Bilinear resize of `planes` × h × w planes (edges replicate). */
export function resizePlanes(
  src: Float32Array,
  planes: number,
  h: number,
  w: number,
  outH: number,
  outW: number,
): Float32Array {
  if (h === outH && w === outW) return Float32Array.from(src);
  return applyWarp(warpPlan(h, w, outH, outW, resizeAffine(h, w, outH, outW), 'replicate'), src, planes);
}
