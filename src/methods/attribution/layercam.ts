/** Layer-CAM: ReLU(Σ_k ReLU(g_k) ⊙ A_k), element-wise weights (Jiang et al. 2021, eqs. 4–5). */
import { gradientCam } from './camPipeline.js';
import type { AttributionMethod } from './method.js';

export const layerCam: AttributionMethod = {
  name: 'layercam',
  title: 'Layer-CAM',
  reference: 'Jiang et al. 2021, eqs. 4–5',
  resolution: 'layer',
  needsLayer: true,
  samplesOnly: true,
  defaults: {},
  run: (run) => gradientCam(run, (_a, g) => g.map((v) => Math.max(0, v))),
};
