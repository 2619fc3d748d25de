/**
 * Deconvnet: backpropagation where every ReLU passes relu(dY) and ignores its forward mask
 * (Zeiler & Fergus 2014, §2.1 "Rectification"; the equivalence to a modified backward pass is
 * Springenberg et al. 2015, §3.4, fig. 1).
 */
import type { AttributionMethod } from './method.js';
import { inputGradient, inputGradientRequest } from './saliency.js';

export const deconvnet: AttributionMethod = {
  name: 'deconvnet',
  title: 'Deconvnet',
  reference: 'Zeiler & Fergus 2014, §2.1; Springenberg et al. 2015, fig. 1',
  resolution: 'input',
  needsLayer: false,
  sampleRuns: (input) => [inputGradientRequest(input, 'deconvnet')],
  defaults: {},
  run: (run) => inputGradient(run, 'deconvnet'),
};
