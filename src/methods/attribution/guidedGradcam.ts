/**
 * Guided Grad-CAM: guided backpropagation multiplied pixel-wise by Grad-CAM upsampled to the input
 * (bilinear) (Selvaraju et al. 2017, §3 "Guided Grad-CAM").
 */
import { resizeImage } from '../../data/dataset.js';
import { layerGradientRequest } from './camPipeline.js';
import { gradCam } from './gradcam.js';
import type { AttributionMethod } from './method.js';
import { inputGradient, inputGradientRequest } from './saliency.js';

export const guidedGradCam: AttributionMethod = {
  name: 'guided-gradcam',
  title: 'Guided Grad-CAM',
  reference: 'Selvaraju et al. 2017, §3',
  resolution: 'input',
  needsLayer: true,
  sampleRuns: (input, layer) => [inputGradientRequest(input, 'guided'), layerGradientRequest(layer!)],
  defaults: {},
  async run(run) {
    const guided = await inputGradient(run, 'guided');
    const heat = await gradCam.run(run, {});
    return { data: guidedTimesCam(guided.data, heat.data, run.input.dims, heat.dims), dims: guided.dims };
  },
};

/** guided[n, c, y, x] · up(cam[n])[y, x]. */
export function guidedTimesCam(
  guided: Float32Array,
  cam: Float32Array,
  dims: number[],
  camDims: number[],
): Float32Array {
  const [n, c, height, width] = dims;
  const [, , h, w] = camDims;
  const out = new Float32Array(guided.length);
  for (let i = 0; i < n; i++) {
    const up = resizeImage(cam.subarray(i * h * w, (i + 1) * h * w), 1, h, w, height, width);
    for (let ch = 0; ch < c; ch++) {
      const o = (i * c + ch) * height * width;
      for (let j = 0; j < height * width; j++) out[o + j] = guided[o + j] * up[j];
    }
  }
  return out;
}
