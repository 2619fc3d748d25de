/**
 * Grad-CAM++: w_k = Σ_ij α_k,ij · ReLU(g_k,ij) with
 * α = g² / (2g² + Σ_ab A_k,ab · g³) (zero where g = 0), taking the exponential of the score so the
 * higher derivatives are powers of the first (Chattopadhyay et al. 2018, eqs. 10 and 19).
 */
import { gradientCam, layerGradientRequest } from './camPipeline.js';
import type { AttributionMethod } from './method.js';

export const gradCamPlusPlus: AttributionMethod = {
  name: 'gradcam++',
  title: 'Grad-CAM++',
  reference: 'Chattopadhyay et al. 2018, eqs. 10, 19',
  resolution: 'layer',
  needsLayer: true,
  sampleRuns: (_input, layer) => [layerGradientRequest(layer!)],
  defaults: {},
  run: (run) =>
    gradientCam(run, (a, g, channels, area) => {
      const w = new Float32Array(channels);
      for (let k = 0; k < channels; k++) {
        let sumA = 0;
        for (let j = 0; j < area; j++) sumA += a[k * area + j];
        let s = 0;
        for (let j = 0; j < area; j++) {
          const gv = g[k * area + j];
          if (gv === 0) continue;
          const g2 = gv * gv;
          const denominator = 2 * g2 + sumA * g2 * gv;
          const alpha = denominator !== 0 ? g2 / denominator : 0;
          s += alpha * Math.max(0, gv);
        }
        w[k] = s;
      }
      return w;
    }),
};
