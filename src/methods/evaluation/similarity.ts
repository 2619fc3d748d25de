/**
 * How alike two maps are, as the sanity checks measure it (Adebayo et al. 2018, §3): Spearman rank
 * correlation, SSIM (Wang, Bovik, Sheikh & Simoncelli 2004) and the Pearson correlation of HOG
 * descriptors (Dalal & Triggs 2005). All in float64. A constant map carries no ranking or
 * structure: its correlation with another map is 0, with an identical one 1.
 */

/** Pearson correlation; 0 when either side is constant (1 when both are identical). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new Error(`correlation of ${n} and ${b.length} values`);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - ma;
    const y = b[i] - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  if (saa === 0 || sbb === 0) {
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return 0;
    return 1;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Ranks 1..n, ties given their mean rank. */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => values[i] - values[j]);
  const out = new Float64Array(n);
  for (let k = 0; k < n; ) {
    let e = k;
    while (e + 1 < n && values[order[e + 1]] === values[order[k]]) e++;
    const rank = (k + e) / 2 + 1;
    for (let j = k; j <= e; j++) out[order[j]] = rank;
    k = e + 1;
  }
  return out;
}

/**
 * Spearman's ρ: the Pearson correlation of the ranks (ties averaged).
 *
 * @example
 * ```ts
 * spearman([1, 2, 3, 4], [1, 3, 2, 4]); // 0.8
 * ```
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(ranks(a), ranks(b));
}

/**
 * Mean SSIM of two h×w images with values in [0, dataRange]: local statistics under a Gaussian
 * window (σ = 1.5, 11×11, shrunk to fit smaller images), K1 = 0.01, K2 = 0.03, averaged over the
 * positions where the window fits (Wang et al. 2004, eq. 13 and §III-C).
 *
 * @example
 * ```ts
 * ssim(a, a, 64, 64); // 1
 * ```
 */
export function ssim(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  h: number,
  w: number,
  dataRange = 1,
): number {
  if (a.length !== h * w || b.length !== h * w)
    throw new Error(`ssim: images of ${a.length} and ${b.length} values, not ${h}×${w}`);
  const radius = Math.min(5, Math.floor((Math.min(h, w) - 1) / 2));
  const sigma = 1.5;
  const kernel: number[] = [];
  let sum = 0;
  for (let dy = -radius; dy <= radius; dy++)
    for (let dx = -radius; dx <= radius; dx++) {
      const g = Math.exp(-(dy * dy + dx * dx) / (2 * sigma * sigma));
      kernel.push(g);
      sum += g;
    }
  for (let k = 0; k < kernel.length; k++) kernel[k] /= sum;
  const c1 = (0.01 * dataRange) ** 2;
  const c2 = (0.03 * dataRange) ** 2;
  let total = 0;
  let count = 0;
  for (let y = radius; y < h - radius; y++)
    for (let x = radius; x < w - radius; x++) {
      let mx = 0;
      let my = 0;
      let xx = 0;
      let yy = 0;
      let xy = 0;
      let k = 0;
      for (let dy = -radius; dy <= radius; dy++)
        for (let dx = -radius; dx <= radius; dx++) {
          const g = kernel[k++];
          const p = (y + dy) * w + x + dx;
          const u = a[p];
          const v = b[p];
          mx += g * u;
          my += g * v;
          xx += g * u * u;
          yy += g * v * v;
          xy += g * u * v;
        }
      const vx = xx - mx * mx;
      const vy = yy - my * my;
      const cov = xy - mx * my;
      total += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      count++;
    }
  return total / count;
}

/**
 * HOG descriptor of an h×w image (Dalal & Triggs 2005): central-difference gradients, 9 unsigned
 * orientation bins over 0–180° weighted by magnitude in `cell`×`cell` cells, 2×2-cell blocks at a
 * one-cell stride, each L2-Hys normalised (clipped at 0.2 and renormalised).
 *
 * @example
 * ```ts
 * hog(map, 64, 64).length; // 7 × 7 blocks × 4 cells × 9 bins = 1764
 * ```
 */
export function hog(image: ArrayLike<number>, h: number, w: number, cell = 8): Float64Array {
  const bins = 9;
  const cy = Math.max(1, Math.floor(h / cell));
  const cx = Math.max(1, Math.floor(w / cell));
  const size = Math.min(cell, h, w);
  const hist = new Float64Array(cy * cx * bins);
  for (let y = 0; y < cy * size; y++)
    for (let x = 0; x < cx * size; x++) {
      const gx = x > 0 && x < w - 1 ? image[y * w + x + 1] - image[y * w + x - 1] : 0;
      const gy = y > 0 && y < h - 1 ? image[(y + 1) * w + x] - image[(y - 1) * w + x] : 0;
      const magnitude = Math.hypot(gx, gy);
      if (magnitude === 0) continue;
      let angle = (Math.atan2(gy, gx) * 180) / Math.PI;
      if (angle < 0) angle += 180;
      const bin = Math.min(bins - 1, Math.floor(angle / (180 / bins)));
      hist[(Math.floor(y / size) * cx + Math.floor(x / size)) * bins + bin] += magnitude;
    }
  const by = Math.max(1, cy - 1);
  const bx = Math.max(1, cx - 1);
  const span = cy > 1 && cx > 1 ? 2 : 1;
  const out = new Float64Array(by * bx * span * span * bins);
  let o = 0;
  for (let y = 0; y < by; y++)
    for (let x = 0; x < bx; x++) {
      const start = o;
      for (let dy = 0; dy < span; dy++)
        for (let dx = 0; dx < span; dx++)
          for (let k = 0; k < bins; k++) out[o++] = hist[((y + dy) * cx + x + dx) * bins + k];
      for (let pass = 0; pass < 2; pass++) {
        let norm = 1e-10;
        for (let j = start; j < o; j++) norm += out[j] * out[j];
        norm = Math.sqrt(norm);
        for (let j = start; j < o; j++) out[j] = pass === 0 ? Math.min(0.2, out[j] / norm) : out[j] / norm;
      }
    }
  return out;
}

/**
 * Pearson correlation of the two images' HOG descriptors.
 *
 * @example
 * ```ts
 * hogSimilarity(mapA, mapB, 64, 64); // 1 for maps with the same edges, near 0 for unrelated ones
 * ```
 */
export function hogSimilarity(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number): number {
  return pearson(hog(a, h, w), hog(b, h, w));
}
