/**
 * The training graph: the model made static for one batch size, Dropout turned into a multiply by
 * a fed mask, log-softmax on the logits, and the gradient of Σ seed · log p with respect to every
 * trainable parameter; the parameters become graph inputs so each step feeds the current values.
 * Feeding seed = −onehot/B makes the objective the mean softmax cross-entropy.
 */
import { buildGradientGraph, gradName, seedName } from '../autodiff/engine.js';
import { producers } from '../onnx/graph.js';
import { cloneModel, liftToInputs, type Model } from '../onnx/model.js';
import { makeStatic, type StaticModel, type TensorType } from '../onnx/static.js';
import { float32, toNumbers } from '../onnx/tensor.js';
import type { InferenceBackend } from '../runtime/backend.js';

export interface DropoutMask {
  /** Graph input fed with the mask (0 or 1/(1−ratio) per element). */
  name: string;
  dims: number[];
  ratio: number;
}

export interface TrainingGraph {
  model: Model;
  input: string;
  logprob: string;
  seed: string;
  /** Number of classes (the logits' second axis). */
  classes: number;
  params: { name: string; grad: string; dims: number[] }[];
  masks: DropoutMask[];
}

/** Parameter slots: which inputs of which ops are weights a trainer updates. */
const PARAM_SLOTS: Record<string, number[]> = {
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  Gemm: [1, 2],
  MatMul: [0, 1],
  BatchNormalization: [1, 2],
  InstanceNormalization: [1, 2],
  LayerNormalization: [1, 2],
  PRelu: [1],
};

/**
 * The float initializers that act as weights: inputs in a parameter slot of a parameterised op,
 * or the bias added to a MatMul's output. BatchNorm running statistics are not among them.
 */
export function trainableParameters(model: Model): string[] {
  const g = model.graph;
  const prod = producers(g);
  const found = new Set<string>();
  const isFloatInit = (name: string) => g.initializers.get(name)?.dtype === 'float32';
  for (const n of g.nodes) {
    const slots = PARAM_SLOTS[n.opType];
    if (slots) for (const i of slots) if (n.inputs[i] && isFloatInit(n.inputs[i])) found.add(n.inputs[i]);
    if (n.opType === 'Add') {
      const [a, b] = n.inputs;
      if (isFloatInit(b) && prod.get(a)?.opType === 'MatMul') found.add(b);
      if (isFloatInit(a) && prod.get(b)?.opType === 'MatMul') found.add(a);
    }
  }
  return [...g.initializers.keys()].filter((k) => found.has(k));
}

/** A term added to the training loss: weight · Σ tensor (e.g. SCOUTER's area loss). */
export interface AuxiliaryLoss {
  tensor: string;
  weight: number;
}

/** Build the training graph for batches of `inputShape`. */
export async function buildTrainingGraph(
  model: Model,
  options: { inputShape: number[]; logits: string; trainable: string[]; auxiliary?: AuxiliaryLoss[] },
  backend: InferenceBackend,
): Promise<TrainingGraph> {
  const input = model.graph.inputs[0].name;
  const s = await makeStatic(model, { [input]: options.inputShape }, backend);
  const m = cloneModel(s.model);
  const types = new Map<string, TensorType>(s.types);
  const g = m.graph;
  for (const p of options.trainable) {
    if (!g.initializers.has(p))
      throw new Error(`trainable parameter "${p}" is not an initializer of the model`);
  }
  if (!types.has(options.logits)) throw new Error(`logits tensor "${options.logits}" not found in the model`);
  const logitDims = types.get(options.logits)!.dims;
  if (logitDims.length !== 2)
    throw new Error(
      `logits tensor "${options.logits}" has shape [${logitDims}]; training needs [batch, classes]`,
    );

  const masks: DropoutMask[] = [];
  const used = new Set(g.nodes.flatMap((n) => n.inputs));
  g.nodes = g.nodes.map((n) => {
    if (n.opType !== 'Dropout') return n;
    if (n.outputs[1] && used.has(n.outputs[1]))
      throw new Error(
        `Dropout node "${n.name}": its mask output is used; convlens trains with its own masks`,
      );
    const ratioInput = n.inputs[1] ? g.initializers.get(n.inputs[1]) : undefined;
    const attr = n.attrs.ratio;
    const ratio = ratioInput ? toNumbers(ratioInput)[0] : attr?.type === 'float' ? attr.value : 0.5;
    const mask = `${n.outputs[0]}::dropout_mask`;
    const dims = types.get(n.inputs[0])!.dims;
    g.inputs.push({ name: mask, dtype: 'float32', shape: dims });
    types.set(mask, { dtype: 'float32', dims });
    masks.push({ name: mask, dims, ratio });
    return { ...n, opType: 'Mul', inputs: [n.inputs[0], mask], outputs: [n.outputs[0]], attrs: {} };
  });

  const logprob = `${options.logits}::logprob`;
  g.nodes.push({
    name: logprob,
    opType: 'LogSoftmax',
    domain: '',
    inputs: [options.logits],
    outputs: [logprob],
    attrs: { axis: { type: 'int', value: 1 } },
  });
  types.set(logprob, { dtype: 'float32', dims: logitDims });
  g.outputs = [{ name: logprob }];

  const auxiliary = (options.auxiliary ?? []).map((a) => {
    const dims = types.get(a.tensor)?.dims;
    if (!dims) throw new Error(`auxiliary loss tensor "${a.tensor}" not found in the model`);
    const size = dims.reduce((x, y) => x * y, 1);
    return { tensor: a.tensor, weights: float32(new Float32Array(size).fill(a.weight), dims) };
  });
  const staticModel: StaticModel = { model: m, types, folded: s.folded };
  const grad = buildGradientGraph(staticModel, {
    objective: [{ tensor: logprob, weights: 'feed' }, ...auxiliary],
    wrt: options.trainable,
    outputs: [logprob],
  });
  const params = options.trainable.map((name) => ({
    name,
    grad: gradName(name),
    dims: g.initializers.get(name)!.dims,
  }));
  return {
    model: liftToInputs(grad, options.trainable),
    input,
    logprob,
    seed: seedName(logprob),
    classes: logitDims[1],
    params,
    masks,
  };
}
