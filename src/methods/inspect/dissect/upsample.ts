/**
 * Sparse bilinear upsampling: the pixels of an h×w map resampled to H×W (exactly as
 * `resizeImage`, which the renderer uses) that reach a threshold, computed only near the cells
 * that reach it. A bilinear value is a convex combination of four cells, so it can reach the
 * threshold only where one of them does.
 */
import { bilinearAxis } from '../../../data/dataset.js';

export class SparseUpsampler {
  private readonly ys: ReturnType<typeof bilinearAxis>;
  private readonly xs: ReturnType<typeof bilinearAxis>;
  /** Per source row (column), the output rows (columns) [start, end) that read it. */
  private readonly rowSpan: Int32Array;
  private readonly colSpan: Int32Array;
  private readonly stamp: Int32Array;
  private visit = 0;
  readonly identity: boolean;

  constructor(
    readonly h: number,
    readonly w: number,
    readonly height: number,
    readonly width: number,
  ) {
    this.identity = h === height && w === width;
    this.ys = bilinearAxis(h, height);
    this.xs = bilinearAxis(w, width);
    this.rowSpan = spans(this.ys, h);
    this.colSpan = spans(this.xs, w);
    this.stamp = new Int32Array(height * width);
  }

  /**
   * Write the output pixels whose upsampled value is ≥ `edge` into `index` and `value` (capacity
   * H·W each, any order); returns how many. `map` holds h·w values from `offset`.
   */
  collect(map: Float32Array, offset: number, edge: number, index: Int32Array, value: Float32Array): number {
    const { h, w, width } = this;
    let n = 0;
    if (this.identity) {
      for (let p = 0; p < h * w; p++) {
        const v = map[offset + p];
        if (v >= edge) {
          index[n] = p;
          value[n++] = v;
        }
      }
      return n;
    }
    if (++this.visit === 0x7fffffff) {
      this.stamp.fill(0);
      this.visit = 1;
    }
    const mark = this.visit;
    const { ys, xs, rowSpan, colSpan, stamp } = this;
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        if (!(map[offset + i * w + j] >= edge)) continue;
        for (let y = rowSpan[2 * i]; y < rowSpan[2 * i + 1]; y++) {
          const r0 = offset + ys.lo[y] * w;
          const r1 = offset + ys.hi[y] * w;
          const ty = ys.t[y];
          for (let x = colSpan[2 * j]; x < colSpan[2 * j + 1]; x++) {
            const p = y * width + x;
            if (stamp[p] === mark) continue;
            stamp[p] = mark;
            const x0 = xs.lo[x];
            const x1 = xs.hi[x];
            const tx = xs.t[x];
            const top = map[r0 + x0] * (1 - tx) + map[r0 + x1] * tx;
            const bottom = map[r1 + x0] * (1 - tx) + map[r1 + x1] * tx;
            const v = Math.fround(top * (1 - ty) + bottom * ty);
            if (v >= edge) {
              index[n] = p;
              value[n++] = v;
            }
          }
        }
      }
    return n;
  }
}

/** For each source index, the output range [start, end) whose lo or hi is that index. */
function spans(axis: ReturnType<typeof bilinearAxis>, from: number): Int32Array {
  const out = new Int32Array(2 * from);
  for (let s = 0; s < from; s++) {
    out[2 * s] = axis.lo.length;
    out[2 * s + 1] = 0;
  }
  for (let i = 0; i < axis.lo.length; i++)
    for (const s of [axis.lo[i], axis.hi[i]]) {
      out[2 * s] = Math.min(out[2 * s], i);
      out[2 * s + 1] = Math.max(out[2 * s + 1], i + 1);
    }
  return out;
}
