/**
 * SmoothGrad: the average of a pixel method over noisy copies x + N(0, σ²), σ a fraction of the
 * sample's value range (Smilkov et al. 2017, eq. 3, §4: 10–20% works well). Wraps any pixel
 * method (saliency, deconvnet, guided backprop, Integrated Gradients).
 */
import { Random } from '../../maths/random.js';
import type { Tensor } from '../../onnx/tensor.js';
import { type AttributionMethod, checkInteger, checkNumber } from './method.js';
import type { MethodRun } from './pipeline.js';

export interface SmoothGradParams {
  samples: number;
  /** Noise standard deviation as a fraction of (max − min) of each sample. */
  sigma: number;
  /** The wrapped pixel method's name. */
  base: string;
  /** The wrapped method's parameters (default: its defaults). */
  baseParams?: object;
}

/** Wrap a pixel method: run it on `samples` noisy copies of each sample and average. */
export function smoothGrad(
  resolveBase: (name: string) => AttributionMethod,
): AttributionMethod<SmoothGradParams> {
  return {
    name: 'smoothgrad',
    title: 'SmoothGrad',
    reference: 'Smilkov et al. 2017, eq. 3',
    resolution: 'input',
    needsLayer: false,
    defaults: { samples: 25, sigma: 0.15, base: 'saliency' },
    validate(p) {
      checkInteger('smoothgrad', 'samples', p.samples, 1, 10000);
      checkNumber('smoothgrad', 'sigma', p.sigma, 0, 10);
      const base = resolveBase(p.base);
      base.validate?.({ ...base.defaults, ...p.baseParams });
      if (base.resolution !== 'input' || base.name === 'smoothgrad')
        throw new Error(
          `smoothgrad: base "${p.base}" is not a pixel method; use saliency, deconvnet, guided-backprop or ig`,
        );
    },
    async run(run: MethodRun, p) {
      const base = resolveBase(p.base);
      const [n, ...rest] = run.input.dims;
      const per = run.explainer.rowSize;
      const x = run.input.data as Float32Array;
      const noisy = new Float32Array(n * p.samples * per);
      const noiseStd: number[] = [];
      for (let i = 0; i < n; i++) {
        const rng = new Random(run.explainer.sampleSeed(i));
        let lo = Number.POSITIVE_INFINITY;
        let hi = Number.NEGATIVE_INFINITY;
        for (let j = i * per; j < (i + 1) * per; j++) {
          lo = Math.min(lo, x[j]);
          hi = Math.max(hi, x[j]);
        }
        const sd = p.sigma * (hi - lo);
        noiseStd.push(sd);
        for (let s = 0; s < p.samples; s++) {
          const o = (i * p.samples + s) * per;
          rng.fillNormal(noisy, sd, o, o + per);
          for (let j = 0; j < per; j++) noisy[o + j] += x[i * per + j];
        }
      }
      const copies: Tensor = { dtype: 'float32', dims: [n * p.samples, ...rest], data: noisy };
      const sampleOf = (r: number) => (r < 0 ? -1 : Math.floor(r / p.samples));
      const target = {
        ...run.target,
        classes:
          run.target.classes &&
          Array.from({ length: n * p.samples }, (_, r) => run.target.classes![sampleOf(r)]),
        weights: (rows: readonly number[]) => run.target.weights(rows.map(sampleOf)),
      };
      const baseParams = { ...base.defaults, ...p.baseParams };
      const inner = await base.run({ ...run, input: copies, target }, baseParams);
      const out = new Float32Array(n * per);
      for (let r = 0; r < n * p.samples; r++) {
        const o = sampleOf(r) * per;
        for (let j = 0; j < per; j++) out[o + j] += inner.data[r * per + j] / p.samples;
      }
      return {
        data: out,
        dims: [...run.input.dims],
        params: { baseParams: { ...baseParams, ...inner.params } },
        // σ in the model's input units: the fraction times this sample's value range.
        sampleParams: { sigmaInputUnits: noiseStd },
      };
    },
  };
}
