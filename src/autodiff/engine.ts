/**
 * Reverse-mode automatic differentiation over ONNX graphs. `buildGradientGraph` returns a model
 * that computes the requested forward tensors and the gradients of a scalar objective in one
 * onnxruntime session. Only the part of the graph between the `wrt` tensors and the objective is
 * differentiated; rules (one per op, in ./rules) emit the backward nodes.
 */
import { attributeReader } from '../onnx/attributes.js';
import { nearestNames, tensorNames, topologicalOrder } from '../onnx/graph.js';
import { cloneModel, defaultOpset, type Graph, type Model, type Node } from '../onnx/model.js';
import { pruneDeadNodes, type StaticModel } from '../onnx/static.js';
import { float32, type Tensor } from '../onnx/tensor.js';
import { Emitter } from './emitter.js';
import { type GradientRule, RELU_RULES, type ReluRule, type RuleContext } from './rule.js';
import { GRADIENT_RULES } from './rules/index.js';

/**
 * One term of the objective: Σ_i w_i · t_i (`power` 1) or Σ_i w_i · t_i² (`power` 2).
 * `weights` 'feed' makes the weights a graph input named `seedName(tensor)` (fed at run time, so
 * one compiled graph serves every class or channel); a Tensor bakes them in; 'argmax' computes
 * them in the graph as the one-hot of each row's largest entry over the last axis (the top-1
 * class of logits, first index on ties), so explaining the prediction needs no earlier run.
 */
export interface ObjectiveTerm {
  tensor: string;
  weights?: 'feed' | 'argmax' | Tensor;
  power?: 1 | 2;
}

export interface GradientSpec {
  /** The scalar objective is the sum of these terms. */
  objective: ObjectiveTerm[];
  /** Tensors (graph inputs, intermediates, initializers) to differentiate with respect to. */
  wrt: string[];
  /** Forward tensors to return as well (default: the model's outputs). */
  outputs?: string[];
  /** Backward rule for ReLU-family ops (default 'vanilla'). */
  reluRule?: ReluRule;
}

export const seedName = (tensor: string): string => `${tensor}::seed`;
export const gradName = (tensor: string): string => `${tensor}::grad`;

const FLOAT = new Set(['float32']);

/** Backward graphs use Slice with inputs (opset 10) and Where (opset 9). */
export const MIN_OPSET = 10;

const RULES = new Map<string, GradientRule>(GRADIENT_RULES.map((r) => [r.opType, r]));

const ruleFor = (node: Node) => RULES.get(node.domain ? `${node.domain}::${node.opType}` : node.opType);

/** Op types that have a gradient rule. */
export function supportedOps(): string[] {
  return [...RULES.keys()].sort();
}

/**
 * Build the forward+backward model.
 *
 * @example
 * ```ts
 * const s = await makeStatic(model, [1, 3, 32, 32], nodeBackend());
 * const g = buildGradientGraph(s, { objective: [{ tensor: 'logits' }], wrt: ['image'] });
 * // inputs: image, 'logits::seed'; outputs: logits, 'image::grad'
 * ```
 */
export function buildGradientGraph(source: StaticModel, spec: GradientSpec): Model {
  const model = cloneModel(source.model);
  const g = model.graph;
  const types = source.types;
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET) {
    throw new Error(
      `model uses opset ${opset}; gradients need opset ${MIN_OPSET} or later (re-export, or convert with onnx.version_converter)`,
    );
  }
  const reluRule = spec.reluRule ?? 'vanilla';
  if (!RELU_RULES.includes(reluRule)) {
    throw new Error(`reluRule "${reluRule}" is not one of ${RELU_RULES.join(', ')}`);
  }
  const known = tensorNames(g);
  const knownSet = new Set(known);
  const check = (name: string, role: string) => {
    if (!knownSet.has(name)) {
      throw new Error(`${role} tensor "${name}" not found; nearest: ${nearestNames(name, known).join(', ')}`);
    }
    const t = types.get(name);
    if (role !== 'output' && t && !FLOAT.has(t.dtype)) {
      throw new Error(`${role} tensor "${name}" is ${t.dtype}; gradients need float32`);
    }
  };
  if (spec.objective.length === 0) throw new Error('objective: give at least one term');
  if (spec.wrt.length === 0) throw new Error('wrt: give at least one tensor');
  for (const o of spec.objective) check(o.tensor, 'objective');
  for (const w of spec.wrt) check(w, 'wrt');
  for (const o of spec.outputs ?? []) check(o, 'output');

  const order = topologicalOrder(g);
  const isFloat = (t: string) => !!t && FLOAT.has(types.get(t)?.dtype ?? '');

  const active = pathTensors(
    order,
    spec.wrt,
    spec.objective.map((o) => o.tensor),
    isFloat,
  );

  const emit = new Emitter(opset);
  const contributions = new Map<string, string[]>();
  const contribute = (t: string, grad: string) => {
    const list = contributions.get(t);
    if (list) list.push(grad);
    else contributions.set(t, [grad]);
  };
  const accumulated = new Map<string, string>();
  const gradientOf = (t: string): string | undefined => {
    const done = accumulated.get(t);
    if (done) return done;
    const list = contributions.get(t);
    if (!list) return undefined;
    const sum = emit.sum(list);
    accumulated.set(t, sum);
    return sum;
  };

  // Seeds: d(objective)/d(tensor) = w (power 1) or 2·w·t (power 2).
  for (const term of spec.objective) {
    const dims = types.get(term.tensor)!.dims;
    let w: string;
    if (term.weights === 'argmax') {
      // w = OneHot(ArgMax(t, axis −1), K): a constant of the backward pass (no gradient flows through it).
      const k = dims[dims.length - 1];
      const top = emit.op('ArgMax', [term.tensor], { axis: -1, keepdims: 0 });
      w = emit.op('OneHot', [top, emit.ints([k]), emit.constant(float32([0, 1], [2]), 'offOn')], {
        axis: -1,
      });
    } else if (term.weights === undefined || term.weights === 'feed') {
      w = seedName(term.tensor);
      if (!g.inputs.some((i) => i.name === w)) g.inputs.push({ name: w, dtype: 'float32', shape: dims });
    } else {
      const t = term.weights;
      if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
        throw new Error(`objective "${term.tensor}": weights have shape [${t.dims}], tensor has [${dims}]`);
      }
      w = emit.constant(t, 'seed');
    }
    contribute(term.tensor, term.power === 2 ? emit.mul(emit.mul(w, term.tensor), emit.scalar(2)) : w);
  }

  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k];
    if (!node.outputs.some(active) || !node.inputs.some(active)) continue;
    const rule = ruleFor(node);
    if (!rule) {
      throw new Error(
        `no gradient rule for op ${node.opType}${node.domain ? ` (domain ${node.domain})` : ''} at node "${node.name}"; ` +
          `supported ops: ${supportedOps().join(', ')}`,
      );
    }
    // Only a rule that declares it may read the ReLU rule (reluRuleMatters relies on it).
    const ruleOption = rule.followsReluRule ? reluRule : undefined;
    rule.emit(
      makeContext(node, emit, opset, ruleOption, types, g.initializers, active, gradientOf, contribute),
    );
  }

  // Outputs: forward tensors, then one gradient per wrt tensor.
  const forward = spec.outputs ?? source.model.graph.outputs.map((o) => o.name);
  g.outputs = forward.map((name) => ({ name, dtype: types.get(name)?.dtype, shape: types.get(name)?.dims }));
  for (const w of spec.wrt) {
    const dims = types.get(w)!.dims;
    const grad = gradientOf(w) ?? emit.zeros(dims);
    emit.nodes.push({
      name: `${gradName(w)}/out`,
      opType: 'Identity',
      domain: '',
      inputs: [grad],
      outputs: [gradName(w)],
      attrs: {},
    });
    g.outputs.push({ name: gradName(w), dtype: 'float32', shape: dims });
  }
  g.nodes.push(...emit.nodes);
  for (const [name, t] of emit.initializers) g.initializers.set(name, t);
  pruneDeadNodes(model);
  return model;
}

/** A test for the tensors that depend on a `wrt` tensor and that the objective depends on, through `kept` tensors. */
function pathTensors(
  order: Node[],
  wrt: readonly string[],
  objective: readonly string[],
  kept: (t: string) => boolean,
): (t: string) => boolean {
  const fromWrt = new Set(wrt);
  for (const n of order) {
    if (n.inputs.some((i) => fromWrt.has(i))) for (const o of n.outputs) if (kept(o)) fromWrt.add(o);
  }
  const toObjective = new Set(objective);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k];
    if (n.outputs.some((o) => toObjective.has(o))) for (const i of n.inputs) if (kept(i)) toObjective.add(i);
  }
  return (t) => fromWrt.has(t) && toObjective.has(t);
}

/**
 * Whether the ReLU rule can change the gradient of the `wrt` tensors: an op that follows it (Relu,
 * LeakyRelu, Clip) lies between them and the objective. Where none does, a run under any rule gives
 * their vanilla gradients, so one run can serve a guided input gradient and a Grad-CAM layer gradient.
 *
 * @example
 * ```ts
 * // The last block's output feeds only GlobalAveragePool → Gemm: no ReLU above it.
 * reluRuleMatters(model.graph, ['layer4_out'], ['logits']); // false
 * reluRuleMatters(model.graph, ['input'], ['logits']);      // true
 * ```
 */
export function reluRuleMatters(graph: Graph, wrt: readonly string[], objective: readonly string[]): boolean {
  const order = topologicalOrder(graph);
  const onPath = pathTensors(order, wrt, objective, () => true);
  return order.some((n) => ruleFor(n)?.followsReluRule && n.inputs.some(onPath) && n.outputs.some(onPath));
}

function makeContext(
  node: Node,
  emit: Emitter,
  opset: number,
  reluRule: ReluRule | undefined,
  types: StaticModel['types'],
  initializers: Map<string, Tensor>,
  active: (t: string) => boolean,
  gradientOf: (t: string) => string | undefined,
  contribute: (t: string, grad: string) => void,
): RuleContext {
  const fail = (reason: string) =>
    new Error(`gradient of op ${node.opType} at node "${node.name}": ${reason}`);
  const shape = (t: string): number[] => {
    const ty = types.get(t);
    if (!ty) throw fail(`no static shape for tensor "${t}"`);
    return ty.dims;
  };
  return {
    node,
    emit,
    opset,
    get reluRule(): ReluRule {
      if (!reluRule) throw fail('the rule reads the ReLU rule option without declaring followsReluRule');
      return reluRule;
    },
    x: (i) => node.inputs[i],
    y: (i) => node.outputs[i],
    hasInput: (i) => !!node.inputs[i],
    hasDy: (i) => !!node.outputs[i] && gradientOf(node.outputs[i]) !== undefined,
    dy: (i) => gradientOf(node.outputs[i]) ?? emit.zeros(shape(node.outputs[i])),
    needsDx: (i) => !!node.inputs[i] && active(node.inputs[i]),
    dx: (i, grad) => {
      if (node.inputs[i] && active(node.inputs[i])) contribute(node.inputs[i], grad);
    },
    dxBroadcast: (i, grad, from) => {
      const input = node.inputs[i];
      if (input && active(input)) contribute(input, emit.unbroadcast(grad, from, shape(input)));
    },
    shape,
    constant: (t) => initializers.get(t),
    ...attributeReader(node),
    unsupported: fail,
  };
}
