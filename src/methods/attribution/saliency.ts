/**
 * Saliency: the signed input gradient d S_c / d x (Simonyan et al. 2014, "Deep Inside
 * Convolutional Networks", §3.1, eq. 2: w = ∂S_c/∂I at I_0). Renderers show |w| or max_c |w|.
 */
import type { ReluRule } from '../../autodiff/rule.js';
import type { AttributionMethod, MethodOutput } from './method.js';
import type { GradientRowsRequest, MethodRun } from './pipeline.js';

/** The run of an input gradient under a ReLU rule. */
export const inputGradientRequest = (input: string, reluRule: ReluRule): GradientRowsRequest => ({
  wrt: [input],
  reluRule,
});

/** The input gradient of the bound target for every sample, with a ReLU backward rule. */
export async function inputGradient(run: MethodRun, reluRule: ReluRule): Promise<MethodOutput> {
  const e = run.explainer;
  const request = inputGradientRequest(e.inputName, reluRule);
  const r = await e.batchGradients(run.input, run.target, request, run.progress);
  return { data: r.gradients[e.inputName], dims: [...run.input.dims] };
}

export const saliency: AttributionMethod = {
  name: 'saliency',
  title: 'Saliency (gradient)',
  reference: 'Simonyan, Vedaldi & Zisserman 2014, §3.1 eq. 2',
  resolution: 'input',
  needsLayer: false,
  sampleRuns: (input) => [inputGradientRequest(input, 'vanilla')],
  defaults: {},
  run: (run) => inputGradient(run, 'vanilla'),
};
