/** Layer-CAM: ReLU(Σ_k ReLU(g_k) ⊙ A_k), element-wise weights (Jiang et al. 2021, eqs. 4–5). */
import { gradientCam, layerGradientRequest } from './camPipeline.js';
import type { AttributionMethod } from './method.js';

/** ReLU(g) element by element: Layer-CAM's weights (eq. 4). */
function positivePart(g: Float32Array): Float32Array {
  const out = new Float32Array(g.length);
  for (let i = 0; i < g.length; i++) out[i] = Math.max(0, g[i]);
  return out;
}

export const layerCam: AttributionMethod = {
  name: 'layercam',
  title: 'Layer-CAM',
  reference: 'Jiang et al. 2021, eqs. 4–5',
  resolution: 'layer',
  needsLayer: true,
  sampleRuns: (_input, layer) => [layerGradientRequest(layer!)],
  defaults: {},
  run: (run) => gradientCam(run, (_a, g) => positivePart(g)),
};
