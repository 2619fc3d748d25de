/**
 * Guided backpropagation: ReLUs pass dY only where both the forward input and dY are positive
 * (Springenberg et al. 2015, "Striving for Simplicity", §3.4, fig. 1).
 */
import type { AttributionMethod } from './method.js';
import { inputGradient, inputGradientRequest } from './saliency.js';

export const guidedBackprop: AttributionMethod = {
  name: 'guided-backprop',
  title: 'Guided backpropagation',
  reference: 'Springenberg et al. 2015, §3.4, fig. 1',
  resolution: 'input',
  needsLayer: false,
  sampleRuns: (input) => [inputGradientRequest(input, 'guided')],
  defaults: {},
  run: (run) => inputGradient(run, 'guided'),
};
