/** The attribution methods, registered from one explicit list, and the driver that runs them. */
import { nearestNames } from '../../onnx/graph.js';
import { cam } from './cam.js';
import { counterfactual } from './counterfactual.js';
import { deconvnet } from './deconvnet.js';
import { gradCam } from './gradcam.js';
import { gradCamPlusPlus } from './gradcamPlusPlus.js';
import { guidedBackprop } from './guidedBackprop.js';
import { guidedGradCam } from './guidedGradcam.js';
import { findGapLinearHead } from './head.js';
import { integratedGradients } from './integratedGradients.js';
import { layerCam } from './layercam.js';
import type { AttributionMethod } from './method.js';
import { occlusion } from './occlusion.js';
import { type AttributionMap, checkFinite, type Explainer } from './pipeline.js';
import { saliency } from './saliency.js';
import { scoreCam } from './scoreCam.js';
import { scouter, scouterOf } from './scouter.js';
import { smoothGrad } from './smoothgrad.js';
import type { Target } from './target.js';

// biome-ignore lint/suspicious/noExplicitAny: each method has its own parameter type
type AnyMethod = AttributionMethod<any>;

export const ATTRIBUTION_METHODS: readonly AnyMethod[] = [
  saliency,
  smoothGrad((name) => findMethod(name)),
  integratedGradients,
  deconvnet,
  guidedBackprop,
  occlusion,
  scoreCam,
  cam,
  gradCam,
  gradCamPlusPlus,
  layerCam,
  guidedGradCam,
  counterfactual,
  scouter,
];

export const METHOD_NAMES: readonly string[] = ATTRIBUTION_METHODS.map((m) => m.name);

/** The method called `name`; throws listing the valid names, nearest first. */
export function findMethod(name: string): AnyMethod {
  const m = ATTRIBUTION_METHODS.find((x) => x.name === name);
  if (!m)
    throw new Error(
      `unknown method "${name}"; valid methods, nearest first: ${nearestNames(name, [...METHOD_NAMES], METHOD_NAMES.length).join(', ')}`,
    );
  return m;
}

export interface ExplainRequest {
  /** Method names, or ['all'] for every method that applies to the model. */
  methods: string[];
  target?: Target;
  /** Feature map for CAM-family methods (default: chosen automatically). */
  layer?: string;
  /** Parameters per method name, merged over each method's defaults. */
  params?: Record<string, object>;
}

export interface ExplainResult {
  maps: AttributionMap[];
  layer?: string;
  /** Methods left out of 'all' and why (e.g. CAM on a model without a GAP head). */
  skipped: Record<string, string>;
}

/**
 * Run attribution methods on the explainer's batch for one target. Everything is validated
 * (methods, parameters, layer, target) before any method runs.
 *
 * @example
 * ```ts
 * const model = await loadModel('models/shapes-gap.onnx');
 * const x = float32(pixels, [1, 3, 64, 64]);
 * const { maps } = await explain(new Explainer(model, x), { methods: ['gradcam', 'ig'] });
 * maps[0].data; // Grad-CAM at the feature map's resolution, [1, 1, 16, 16]
 * ```
 */
export async function explain(explainer: Explainer, request: ExplainRequest): Promise<ExplainResult> {
  const all = request.methods.length === 1 && request.methods[0] === 'all';
  const methods = all ? [...ATTRIBUTION_METHODS] : request.methods.map(findMethod);
  const params = new Map<string, object>();
  for (const m of methods) {
    const p = { ...m.defaults, ...(request.params?.[m.name] ?? {}) };
    m.validate?.(p);
    params.set(m.name, p);
  }
  const needsLayer = methods.some((m) => m.needsLayer);
  const layer = needsLayer ? await explainer.resolveLayer(request.layer) : request.layer;
  if (!needsLayer && layer !== undefined) await explainer.resolveLayer(layer);
  // The prediction and the tensors the methods read (the layer's maps, SCOUTER's attention) in
  // one forward pass.
  const attention = methods.some((m) => m.name === 'scouter')
    ? scouterOf(explainer.model.model)?.attention
    : undefined;
  // Methods that run over the samples unchanged share their gradient runs and read the layer from
  // them; a run that returns the layer also serves the others' reading of it (CAM).
  const sampleRuns = methods.flatMap(
    (m) => m.sampleRuns?.(explainer.inputName, m.needsLayer ? layer : undefined) ?? [],
  );
  const readsLayer = methods.some((m) => m.needsLayer && !m.sampleRuns);
  const layerRun = readsLayer ? sampleRuns.find((r) => r.outputs?.includes(layer!)) : undefined;
  const read = [...(readsLayer && !layerRun ? [layer!] : []), ...(attention ? [attention] : [])];
  if (read.length > 0) await explainer.prefetch([explainer.logits, ...read]);
  const target = await explainer.bindLazily(request.target ?? { kind: 'top' });
  await explainer.shareSampleGradients(target, sampleRuns);
  if (layerRun) await explainer.sampleGradients(target, layerRun);
  // A deferred 'top' target can only be a class target.
  const explainsClasses = target.deferredTop || target.classes !== undefined;
  const skipped: Record<string, string> = {};
  const runnable = methods.filter((m) => {
    if (!all) return true;
    if (m.name === 'cam') {
      const head = findGapLinearHead(explainer.model.model.graph, layer!, explainer.logits);
      if ('reason' in head) skipped.cam = `no GAP → linear head on "${layer}": ${head.reason}`;
      else if (!explainsClasses) skipped.cam = 'CAM explains classes only';
    }
    // SCOUTER applies to SCOUTER models only: left out of 'all' elsewhere without a note.
    if (m.name === 'scouter') return scouterOf(explainer.model.model) !== undefined;
    return !(m.name in skipped);
  });
  const maps: AttributionMap[] = [];
  for (const m of runnable) {
    const started = performance.now();
    if (!m.sampleRuns) await explainer.resolve(target);
    const out = await m.run(
      {
        explainer,
        target,
        layer: m.needsLayer ? layer : undefined,
        input: explainer.input,
        progress: (done, total) => explainer.options.onProgress?.({ method: m.name, done, total }),
      },
      params.get(m.name)!,
    );
    checkFinite(m.name, out.data);
    const p = params.get(m.name) as Record<string, unknown>;
    maps.push({
      method: m.name,
      resolution: m.resolution,
      dims: out.dims,
      data: out.data,
      layer: m.needsLayer ? layer : undefined,
      target: { tensor: target.tensor, labels: target.labels, classes: target.classes },
      params: Object.fromEntries(
        Object.entries({ ...p, ...out.params }).map(([k, v]) => [
          k,
          v instanceof Float32Array ? `array[${v.length}]` : v,
        ]),
      ),
      sampleParams: out.sampleParams,
      diagnostics: out.diagnostics,
      ms: performance.now() - started,
    });
  }
  await explainer.resolve(target);
  return { maps, layer, skipped };
}

export type { AttributionMethod, MethodOutput } from './method.js';
export { type AttributionMap, Explainer, type ExplainerOptions, paramsOf } from './pipeline.js';
export { parseTarget, TARGET_SYNTAX, type Target } from './target.js';
