/**
 * Counterfactual Grad-CAM: the regions that argue against the target — Grad-CAM with negated
 * gradients, α_k = −(1/Z) Σ_ij ∂y_c/∂A_k,ij (Selvaraju et al. 2017, §5 "Counterfactual Explanations", eq. 4).
 */
import { channelMeans, gradientCam, layerGradientRequest } from './camPipeline.js';
import type { AttributionMethod } from './method.js';

export const counterfactual: AttributionMethod = {
  name: 'counterfactual',
  title: 'Counterfactual Grad-CAM',
  reference: 'Selvaraju et al. 2017, eq. 4',
  resolution: 'layer',
  needsLayer: true,
  sampleRuns: (_input, layer) => [layerGradientRequest(layer!)],
  defaults: {},
  run: (run) => gradientCam(run, (_a, g, k, area) => channelMeans(g, k, area, -1)),
};
