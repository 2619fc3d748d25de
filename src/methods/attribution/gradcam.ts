/** Grad-CAM: ReLU(Σ_k α_k A_k), α_k = (1/Z) Σ_ij ∂y_c/∂A_k,ij (Selvaraju et al. 2017, eqs. 1–2). */
import { channelMeans, gradientCam, layerGradientRequest } from './camPipeline.js';
import type { AttributionMethod } from './method.js';

export const gradCam: AttributionMethod = {
  name: 'gradcam',
  title: 'Grad-CAM',
  reference: 'Selvaraju et al. 2017, eqs. 1–2',
  resolution: 'layer',
  needsLayer: true,
  sampleRuns: (_input, layer) => [layerGradientRequest(layer!)],
  defaults: {},
  run: (run) => gradientCam(run, (_a, g, k, area) => channelMeans(g, k, area)),
};
