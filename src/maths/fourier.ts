/**
 * A real 2-D inverse DFT from a half spectrum, written as a separable linear map with its adjoint
 * (the image synthesis parameterisation needs both; sizes are small and arbitrary, so direct
 * sums over precomputed cosine/sine tables are used rather than a power-of-two FFT).
 *
 * Spectrum layout per plane: [H, Wf, 2] with Wf = ⌊W/2⌋ + 1 (real, imaginary), u the vertical
 * frequency 0..H−1, v the horizontal frequency 0..Wf−1. The image is
 *   x[y, x] = Σ_v m_v Re(Σ_u Z[u, v] e^{2πi(u·y/H + v·x/W)}),
 * m_v = 1 for v = 0 and the Nyquist column of an even W, 2 otherwise, so a Hermitian full spectrum
 * restricted to its first Wf columns gives the same image as the full inverse DFT (times H·W).
 */

export interface HalfSpectrum {
  h: number;
  w: number;
  /** Columns of the half spectrum: ⌊w/2⌋ + 1. */
  wf: number;
  cosY: Float64Array;
  sinY: Float64Array;
  cosX: Float64Array;
  sinX: Float64Array;
  multiplicity: Float64Array;
}

/** Tables for an h × w image. */
export function halfSpectrum(h: number, w: number): HalfSpectrum {
  const wf = Math.floor(w / 2) + 1;
  const cosY = new Float64Array(h * h);
  const sinY = new Float64Array(h * h);
  for (let u = 0; u < h; u++)
    for (let y = 0; y < h; y++) {
      const t = (2 * Math.PI * ((u * y) % h)) / h;
      cosY[u * h + y] = Math.cos(t);
      sinY[u * h + y] = Math.sin(t);
    }
  const cosX = new Float64Array(wf * w);
  const sinX = new Float64Array(wf * w);
  for (let v = 0; v < wf; v++)
    for (let x = 0; x < w; x++) {
      const t = (2 * Math.PI * ((v * x) % w)) / w;
      cosX[v * w + x] = Math.cos(t);
      sinX[v * w + x] = Math.sin(t);
    }
  const multiplicity = Float64Array.from({ length: wf }, (_, v) =>
    v === 0 || (w % 2 === 0 && v === w / 2) ? 1 : 2,
  );
  return { h, w, wf, cosY, sinY, cosX, sinX, multiplicity };
}

/** |frequency| in cycles per pixel of each half-spectrum cell [H, Wf] (numpy fftfreq / rfftfreq). */
export function frequencies(h: number, w: number): Float64Array {
  const wf = Math.floor(w / 2) + 1;
  const out = new Float64Array(h * wf);
  for (let u = 0; u < h; u++) {
    const fy = (u <= (h - 1) / 2 ? u : u - h) / h;
    for (let v = 0; v < wf; v++) out[u * wf + v] = Math.hypot(fy, v / w);
  }
  return out;
}

/** Image planes [P, H, W] from half spectra [P, H, Wf, 2]. */
export function inverseHalfSpectrum(t: HalfSpectrum, spectrum: Float32Array, planes: number): Float32Array {
  const { h, w, wf, cosY, sinY, cosX, sinX, multiplicity } = t;
  const out = new Float32Array(planes * h * w);
  // Y is stored transposed, [v][y], so every inner loop runs over contiguous memory.
  const re = new Float64Array(wf * h);
  const im = new Float64Array(wf * h);
  const row = new Float64Array(w);
  for (let p = 0; p < planes; p++) {
    const z = spectrum.subarray(p * h * wf * 2, (p + 1) * h * wf * 2);
    re.fill(0);
    im.fill(0);
    // Y[y, v] = Σ_u Z[u, v] e^{2πi u y / H}
    for (let u = 0; u < h; u++)
      for (let v = 0; v < wf; v++) {
        const a = z[(u * wf + v) * 2];
        const b = z[(u * wf + v) * 2 + 1];
        if (a === 0 && b === 0) continue;
        const cu = u * h;
        const yv = v * h;
        for (let y = 0; y < h; y++) {
          const c = cosY[cu + y];
          const s = sinY[cu + y];
          re[yv + y] += a * c - b * s;
          im[yv + y] += a * s + b * c;
        }
      }
    // x[y, x] = Σ_v m_v (Yr cos − Yi sin)
    for (let y = 0; y < h; y++) {
      row.fill(0);
      for (let v = 0; v < wf; v++) {
        const r = multiplicity[v] * re[v * h + y];
        const i = multiplicity[v] * im[v * h + y];
        const vx = v * w;
        for (let x = 0; x < w; x++) row[x] += r * cosX[vx + x] - i * sinX[vx + x];
      }
      const o = p * h * w + y * w;
      for (let x = 0; x < w; x++) out[o + x] = row[x];
    }
  }
  return out;
}

/** The adjoint of `inverseHalfSpectrum`: image gradients [P, H, W] → spectrum gradients [P, H, Wf, 2]. */
export function inverseHalfSpectrumAdjoint(
  t: HalfSpectrum,
  grad: Float32Array,
  planes: number,
): Float32Array {
  const { h, w, wf, cosY, sinY, cosX, sinX, multiplicity } = t;
  const out = new Float32Array(planes * h * wf * 2);
  // [v][y], as in the forward map.
  const gr = new Float64Array(wf * h);
  const gi = new Float64Array(wf * h);
  for (let p = 0; p < planes; p++) {
    const g = grad.subarray(p * h * w, (p + 1) * h * w);
    for (let y = 0; y < h; y++)
      for (let v = 0; v < wf; v++) {
        let r = 0;
        let i = 0;
        const gy = y * w;
        const vx = v * w;
        for (let x = 0; x < w; x++) {
          r += g[gy + x] * cosX[vx + x];
          i -= g[gy + x] * sinX[vx + x];
        }
        gr[v * h + y] = multiplicity[v] * r;
        gi[v * h + y] = multiplicity[v] * i;
      }
    for (let u = 0; u < h; u++)
      for (let v = 0; v < wf; v++) {
        let a = 0;
        let b = 0;
        const cu = u * h;
        const yv = v * h;
        for (let y = 0; y < h; y++) {
          const c = cosY[cu + y];
          const s = sinY[cu + y];
          a += gr[yv + y] * c + gi[yv + y] * s;
          b += -gr[yv + y] * s + gi[yv + y] * c;
        }
        out[p * h * wf * 2 + (u * wf + v) * 2] = a;
        out[p * h * wf * 2 + (u * wf + v) * 2 + 1] = b;
      }
  }
  return out;
}
