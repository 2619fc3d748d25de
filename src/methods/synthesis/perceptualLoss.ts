/**
 * The perceptual loss of Johnson, Alahi & Fei-Fei 2016 (§3.1–3.3) as one ONNX graph: a candidate
 * image is judged against a content image and a style through a fixed loss network Φ,
 *
 *   L = c·‖Φ_j(y) − Φ_j(x)‖² / ‖Φ_j(x)‖²  +  Σ_l s·‖G_l(y) − G_l^style‖² / ‖G_l^style‖²  +  t·TV(y),
 *
 * each ‖·‖² a mean over elements and each term a mean over the batch. The normalisations are those
 * of optimisation-based `style` (each term divided by the mean square of its target), so the two
 * kinds of style transfer are scored by one definition. The style's Gram targets are constants
 * of the graph, one row per style, selected or blended per sample by the `style` input
 * w ∈ ℝ^S: G^style = Σ_s w_s G_s, and the normaliser blends alike.
 */
import { Emitter } from '../../autodiff/emitter.js';
import type { Preprocessing } from '../../data/preprocess.js';
import { appendModel } from '../../onnx/compose.js';
import { nearestNames } from '../../onnx/graph.js';
import { defaultOpset, type Model } from '../../onnx/model.js';
import { truncate } from '../../onnx/static.js';
import { float32 } from '../../onnx/tensor.js';
import type { ConvlensModel } from '../../runtime/model.js';
import { gramMatrix, gramNodes } from './objective.js';
import { activationsAt } from './synthesize.js';
import type { SourceImage } from './texture.js';

export interface PerceptualLossSpec {
  contentLayer: string;
  styleLayers: readonly string[];
  /** c (default 1). */
  contentWeight?: number;
  /** s, per style layer (default 10, as `convlens style`). */
  styleWeight?: number;
  /** t, on the candidate's pixels in [0, 1] (default 0.1, as `convlens style`). */
  tvWeight?: number;
}

/** The Gram matrices of each style at each style layer: grams[style][layer], C×C each. */
export interface StyleTargets {
  layers: string[];
  channels: number[];
  grams: Float32Array[][];
}

/** Names of the judge graph's inputs and outputs. */
export const PERCEPTUAL = {
  candidate: 'candidate',
  content: 'content',
  style: 'style',
  /** c·content + Σ s·style_l (scalar [1]): the perceptual loss proper. */
  loss: 'perceptual_loss',
  /** loss + t·TV: what training minimises. */
  objective: 'perceptual_objective',
  contentTerm: 'perceptual_content',
  styleTerm: (layer: string) => `perceptual_style:${layer}`,
  tvTerm: 'perceptual_tv',
} as const;

export const DEFAULT_PERCEPTUAL_WEIGHTS = { contentWeight: 1, styleWeight: 10, tvWeight: 0.1 } as const;

/**
 * Check the loss network's layers: they exist and are spatial maps; throws naming the first bad one.
 * @example
 * await checkLossLayers(lossNet, p, { contentLayer: 'rf7', styleLayers: ['rf3', 'rf5'] });
 */
export async function checkLossLayers(model: ConvlensModel, p: Preprocessing, spec: PerceptualLossSpec) {
  const known = await model.layers([1, p.channels, ...p.size]);
  const names = known.map((l) => l.tensor);
  for (const [flag, layer] of [
    ['content layer', spec.contentLayer],
    ...spec.styleLayers.map((l) => ['style layer', l]),
  ]) {
    const info = known.find((l) => l.tensor === layer);
    if (!info)
      throw new Error(
        `${flag} "${layer}" is not a layer of the loss network; nearest: ${nearestNames(layer, names, 5).join(', ')}`,
      );
    if (info.shape.length !== 4)
      throw new Error(`${flag} "${layer}" has shape [${info.shape}]; it must be a spatial map [N, C, H, W]`);
  }
  if (spec.styleLayers.length === 0) throw new Error('give at least one style layer');
}

/**
 * The Gram targets of each style image at each style layer of the loss network.
 *
 * @example
 * ```ts
 * const targets = await styleTargets(lossNet, p, [starryNight, mosaic], ['relu1', 'relu2']);
 * targets.grams[1][0]; // mosaic's Gram at relu1
 * ```
 */
export async function styleTargets(
  model: ConvlensModel,
  p: Preprocessing,
  styles: readonly SourceImage[],
  layers: readonly string[],
): Promise<StyleTargets> {
  const grams: Float32Array[][] = [];
  let channels: number[] = [];
  for (const [k, s] of styles.entries()) {
    const acts = await activationsAt(model, p, s.pixels, s.size, layers);
    channels = layers.map((l) => acts[l].dims[1]);
    grams.push(
      layers.map((l) => {
        const g = gramMatrix(acts[l].data, acts[l].dims);
        if (!g.some((v) => v !== 0))
          throw new Error(
            `style ${k + 1}: layer "${l}" is zero everywhere for this image; its Gram is empty`,
          );
        return g;
      }),
    );
  }
  return { layers: [...layers], channels, grams };
}

/**
 * The judge graph: inputs `candidate` and `content` [N, 3, H, W] in [0, 1] and `style` [N, S];
 * scalar outputs (shape [1]) for each term, the loss and the training objective. The loss network
 * must take NCHW input (opset ≥ 11); it is cut to the layers the loss reads and runs twice, on
 * the candidate (`loss/…` tensors) and on the content (`target/…`).
 *
 * @example
 * ```ts
 * const judge = perceptualLossModel(lossNet.model, p, { contentLayer: 'relu3', styleLayers: ['relu1', 'relu2'] }, targets);
 * // feed candidate, content, style [[1, 0]]; fetch 'perceptual_loss'
 * ```
 */
export function perceptualLossModel(
  lossModel: Model,
  p: Preprocessing,
  spec: PerceptualLossSpec,
  targets: StyleTargets,
): Model {
  if (p.channels !== 3) throw new Error('the loss network must take RGB input (3 channels)');
  if ((p.layout ?? 'nchw') !== 'nchw')
    throw new Error(`the loss network must take NCHW input; its card says ${p.layout}`);
  const opset = defaultOpset(lossModel);
  if (opset < 11) throw new Error(`the loss network uses opset ${opset}; re-export it at opset 11 or later`);
  const w = {
    contentWeight: spec.contentWeight ?? DEFAULT_PERCEPTUAL_WEIGHTS.contentWeight,
    styleWeight: spec.styleWeight ?? DEFAULT_PERCEPTUAL_WEIGHTS.styleWeight,
    tvWeight: spec.tvWeight ?? DEFAULT_PERCEPTUAL_WEIGHTS.tvWeight,
  };
  const styles = targets.grams.length;
  const judge: Model = {
    ...lossModel,
    opsets: { ...lossModel.opsets },
    metadata: {},
    graph: {
      name: 'perceptual_loss',
      nodes: [],
      inputs: [
        { name: PERCEPTUAL.candidate, dtype: 'float32', shape: ['N', 3, 'H', 'W'] },
        { name: PERCEPTUAL.content, dtype: 'float32', shape: ['N', 3, 'H', 'W'] },
        { name: PERCEPTUAL.style, dtype: 'float32', shape: ['N', styles] },
      ],
      outputs: [],
      initializers: new Map(),
      valueInfo: new Map(),
    },
  };
  const e = new Emitter(opset, 'perceptual');
  const channelConst = (values: number[]) =>
    e.constant(float32(values.length === 1 ? [values[0], values[0], values[0]] : values, [1, 3, 1, 1]));
  const normalize = (x: string) => e.div(e.sub(x, channelConst(p.mean)), channelConst(p.std));
  const flush = () => {
    judge.graph.nodes.push(...e.nodes.splice(0));
    for (const [k, t] of e.initializers) judge.graph.initializers.set(k, t);
  };
  const lossInput = lossModel.graph.inputs.find((i) => !lossModel.graph.initializers.has(i.name))!.name;
  const candidateIn = normalize(PERCEPTUAL.candidate);
  const contentIn = normalize(PERCEPTUAL.content);
  flush();
  const onCandidate = appendModel(judge, truncate(lossModel, [spec.contentLayer, ...spec.styleLayers]), {
    prefix: 'loss/',
    inputs: { [lossInput]: candidateIn },
  });
  const onContent = appendModel(judge, truncate(lossModel, [spec.contentLayer]), {
    prefix: 'target/',
    inputs: { [lossInput]: contentIn },
  });

  const square = (x: string) => e.mul(x, x);
  const batchMean = (perSample: string) => e.reshape(e.reduceMean(perSample, [0], false), [1]);
  // Content: per sample mean (F − Fc)² / mean Fc², averaged over the batch.
  const f = onCandidate(spec.contentLayer);
  const fc = onContent(spec.contentLayer);
  const relative = e.div(
    e.reduceMean(square(e.sub(f, fc)), [1, 2, 3], false),
    e.reduceMean(square(fc), [1, 2, 3], false),
  );
  const content = e.op('Mul', [batchMean(relative), e.constant(float32([w.contentWeight], [1]))]);
  const styleTerms = spec.styleLayers.map((layer, l) => {
    const c = targets.channels[l];
    const table = new Float32Array(styles * c * c);
    const inverse = new Float32Array(styles);
    targets.grams.forEach((g, s) => {
      table.set(g[l], s * c * c);
      inverse[s] = g[l].length / g[l].reduce((sum, v) => sum + v * v, 0);
    });
    const gram = gramNodes(e, onCandidate(layer), c);
    const target = e.reshape(
      e.op('MatMul', [PERCEPTUAL.style, e.constant(float32(table, [styles, c * c]))]),
      [0, c, c],
    );
    const mse = e.reduceMean(square(e.sub(gram, target)), [1, 2], false);
    const scale = e.reshape(
      e.op('MatMul', [PERCEPTUAL.style, e.constant(float32(inverse, [styles, 1]))]),
      [-1],
    );
    return e.op('Mul', [batchMean(e.mul(mse, scale)), e.constant(float32([w.styleWeight], [1]))]);
  });
  // TV: mean squared vertical plus mean squared horizontal neighbour differences of the candidate.
  const y = PERCEPTUAL.candidate;
  const big = 2 ** 30;
  const dv = e.sub(e.slice(y, [1], [big], [2]), e.slice(y, [0], [-1], [2]));
  const dh = e.sub(e.slice(y, [1], [big], [3]), e.slice(y, [0], [-1], [3]));
  const tvRaw = e.add(
    e.reduceMean(square(dv), [0, 1, 2, 3], false),
    e.reduceMean(square(dh), [0, 1, 2, 3], false),
  );
  const tv = e.op('Mul', [e.reshape(tvRaw, [1]), e.constant(float32([w.tvWeight], [1]))]);
  const loss = e.sum([content, ...styleTerms]);
  const objective = e.add(loss, tv);
  const named: [string, string][] = [
    [content, PERCEPTUAL.contentTerm],
    ...styleTerms.map((t, l): [string, string] => [t, PERCEPTUAL.styleTerm(spec.styleLayers[l])]),
    [tv, PERCEPTUAL.tvTerm],
    [loss, PERCEPTUAL.loss],
    [objective, PERCEPTUAL.objective],
  ];
  for (const [from, to] of named) e.nodes.push(identity(from, to));
  flush();
  judge.graph.outputs = named.map(([, to]) => ({ name: to }));
  return judge;
}

const identity = (from: string, to: string) => ({
  name: to,
  opType: 'Identity',
  domain: '',
  inputs: [from],
  outputs: [to],
  attrs: {},
});
