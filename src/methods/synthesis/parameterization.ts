/**
 * Image parameterisations for synthesis (Olah et al. 2017, "Feature Visualization", Distill,
 * §"Preconditioning and parameterization"): the optimiser moves parameters θ, the model sees
 * pixels x(θ) in [0, 1], and gradients flow back as dL/dθ = J(θ)ᵀ dL/dx.
 *
 * - `pixel`: θ = x, clamped to [0, 1] after each step.
 * - `fft`: θ is a half spectrum per channel scaled by 1/f (natural images' amplitude spectrum),
 *   so plain gradient steps act like steps whitened in frequency; x = σ(colour(IDFT(s ⊙ θ))).
 * - `decorrelate` (3 channels): θ lives in a decorrelated colour basis, rgb = M·θ, with M the
 *   square root of ImageNet's colour covariance used by Lucid; with it x passes through a sigmoid.
 */
import { frequencies } from '../../maths/fourier.js';
import type { Random } from '../../maths/random.js';
import { jsSpectrum, type SpectrumTransform } from './spectrum.js';

export const PARAMETERIZATIONS = ['pixel', 'fft'] as const;
export type ParameterizationName = (typeof PARAMETERIZATIONS)[number];

export interface ImageParameterization {
  readonly name: ParameterizationName;
  readonly decorrelate: boolean;
  /** Parameter count for the whole batch. */
  readonly size: number;
  /** Pixels [N, C, H, W] in [0, 1] of θ. */
  render(theta: Float32Array): Promise<Float32Array>;
  /** dL/dθ from dL/dx at θ, where `pixels` = render(θ). */
  backward(theta: Float32Array, pixels: Float32Array, pixelGrad: Float32Array): Promise<Float32Array>;
  /** Keep θ valid after a step (pixel: clamp to [0, 1]). */
  project(theta: Float32Array): void;
}

/** Square root of the colour covariance (Lucid's color_correlation_svd_sqrt), columns scaled to max norm 1. */
const COLOUR_SQRT = (() => {
  const m = [0.26, 0.09, 0.02, 0.27, 0.0, -0.05, 0.27, -0.09, 0.03];
  let max = 0;
  for (let k = 0; k < 3; k++) max = Math.max(max, Math.hypot(m[k], m[3 + k], m[6 + k]));
  return m.map((v) => v / max);
})();

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const logit = (p: number) => {
  const q = Math.min(1 - 1e-4, Math.max(1e-4, p));
  return Math.log(q / (1 - q));
};

/** rgb_c = Σ_k M[c, k] t_k per pixel (transpose: the adjoint). */
function mixColours(t: Float32Array, n: number, area: number, transpose: boolean): Float32Array {
  const out = new Float32Array(t.length);
  for (let s = 0; s < n; s++)
    for (let j = 0; j < area; j++) {
      const at = (c: number) => (s * 3 + c) * area + j;
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < 3; k++)
          v += (transpose ? COLOUR_SQRT[k * 3 + c] : COLOUR_SQRT[c * 3 + k]) * t[at(k)];
        out[at(c)] = v;
      }
    }
  return out;
}

/** Solve M t = rgb per pixel (M is invertible). */
function unmixColours(rgb: Float32Array, n: number, area: number): Float32Array {
  const [a, b, c, d, e, f, g, h, i] = COLOUR_SQRT;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  const inv = [
    e * i - f * h,
    c * h - b * i,
    b * f - c * e,
    f * g - d * i,
    a * i - c * g,
    c * d - a * f,
    d * h - e * g,
    b * g - a * h,
    a * e - b * d,
  ].map((v) => v / det);
  const out = new Float32Array(rgb.length);
  for (let s = 0; s < n; s++)
    for (let j = 0; j < area; j++)
      for (let r = 0; r < 3; r++) {
        let v = 0;
        for (let k = 0; k < 3; k++) v += inv[r * 3 + k] * rgb[(s * 3 + k) * area + j];
        out[(s * 3 + r) * area + j] = v;
      }
  return out;
}

export interface ParameterizationOptions {
  name: ParameterizationName;
  /** Batch, channels, height, width. */
  dims: readonly [number, number, number, number];
  /** Decorrelated colour basis (3 channels only; default: true for fft on 3 channels). */
  decorrelate?: boolean;
  /** fft: amplitude falls as 1/f^decay (default 1). */
  decay?: number;
  /** fft: the inverse DFT to use (default: JavaScript; synthesis passes onnxruntime's). */
  spectrum?: SpectrumTransform;
}

/**
 * A parameterisation and its starting θ: from `init` pixels (pixel only), or seeded noise
 * (pixel: grey ± 0.1; fft: spectrum ~ N(0, 0.01²), Lucid's default).
 *
 * @example
 * ```ts
 * const { param, theta } = parameterize({ name: 'fft', dims: [1, 3, 64, 64] }, new Random(0));
 * await param.render(theta); // 1×3×64×64 pixels near grey
 * ```
 */
export function parameterize(
  options: ParameterizationOptions,
  rng: Random,
  init?: Float32Array | 'noise' | 'grey',
): { param: ImageParameterization; theta: Float32Array } {
  const [n, c, h, w] = options.dims;
  const area = h * w;
  const decorrelate = options.decorrelate ?? (options.name === 'fft' && c === 3);
  if (decorrelate && c !== 3) throw new Error(`decorrelated colour needs 3 channels, the model takes ${c}`);
  const squash = options.name === 'fft' || decorrelate;
  const toPixels = (linear: Float32Array) => {
    const mixed = decorrelate ? mixColours(linear, n, area, false) : linear;
    return squash ? mixed.map(sigmoid) : mixed;
  };
  // dL/d(linear) from dL/dx at the rendered pixels x.
  const pullBack = (x: Float32Array, g: Float32Array) => {
    const pre = squash ? g.map((v, i) => v * x[i] * (1 - x[i])) : g;
    return decorrelate ? mixColours(pre, n, area, true) : pre;
  };
  const fromPixels = (pixels: Float32Array) => {
    const pre = squash ? pixels.map(logit) : Float32Array.from(pixels);
    return decorrelate ? unmixColours(pre, n, area) : pre;
  };

  if (options.name === 'pixel') {
    const start =
      init instanceof Float32Array
        ? init
        : Float32Array.from({ length: n * c * area }, () =>
            init === 'grey' ? 0.5 : 0.5 + 0.2 * (rng.next() - 0.5),
          );
    return {
      theta: fromPixels(start),
      param: {
        name: 'pixel',
        decorrelate,
        size: n * c * area,
        render: async (theta) => toPixels(theta),
        backward: async (_, x, g) => pullBack(x, g),
        project: (theta) => {
          if (!squash) for (let i = 0; i < theta.length; i++) theta[i] = Math.min(1, Math.max(0, theta[i]));
        },
      },
    };
  }

  if (init instanceof Float32Array)
    throw new Error(
      'the fft parameterisation starts from noise; start from an image with the pixel parameterisation',
    );
  const dft = options.spectrum ?? jsSpectrum(h, w);
  const wf = Math.floor(w / 2) + 1;
  const freq = frequencies(h, w);
  const decay = options.decay ?? 1;
  // Lucid's scaling: 1/max(f, 1/max(h, w))^decay, times √(HW), with the inverse DFT's 1/(HW) and a further /4.
  const scale = Float32Array.from(
    freq,
    (f) => 1 / Math.max(f, 1 / Math.max(h, w)) ** decay / (4 * Math.sqrt(h * w)),
  );
  const cells = h * wf;
  const size = n * c * cells * 2;
  const scaled = (theta: Float32Array) => theta.map((v, i) => v * scale[Math.floor(i / 2) % cells]);
  const theta = init === 'grey' ? new Float32Array(size) : rng.normals(size, 0.01);
  return {
    theta,
    param: {
      name: 'fft',
      decorrelate,
      size,
      render: async (t) => toPixels(await dft.inverse(scaled(t), n * c)),
      backward: async (_, x, g) => scaled(await dft.adjoint(pullBack(x, g), n * c)),
      project: () => {},
    },
  };
}
