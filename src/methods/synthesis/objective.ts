/**
 * Objectives for image synthesis, maximised. Each term appends standard ONNX nodes to the model
 * where it needs them (LogSoftmax for attacks, Gram matrices and differences from fixed targets
 * for texture, style and inversion) and becomes one seeded objective Σ w·t^p on one tensor, so a
 * single forward + backward run gives both the objective's value and its gradient.
 *
 * Terms compose by addition and scaling: `objective = Σ_k scale_k · term_k`.
 */
import { Emitter } from '../../autodiff/emitter.js';
import { nearestNames } from '../../onnx/graph.js';
import { cloneModel, type Model } from '../../onnx/model.js';
import { float32, int64 } from '../../onnx/tensor.js';

export interface ObjectiveTerm {
  /** How the term reads, e.g. "logit:7" or "gram:relu2". */
  label: string;
  scale: number;
  kind:
    | { type: 'logit'; tensor: string; index: number }
    | { type: 'logprob'; tensor: string; index: number }
    | { type: 'channel'; tensor: string; channel: number }
    | { type: 'neuron'; tensor: string; channel: number; y: number; x: number }
    | { type: 'dream'; tensor: string }
    | { type: 'l2'; tensor: string }
    /** −mean (F − target)² over the tensor (feature inversion, style content). */
    | { type: 'match'; tensor: string; target: Float32Array }
    /** −mean (G − target)² with G = F Fᵀ / (H·W) per sample (texture, style). */
    | { type: 'gram'; tensor: string; target: Float32Array };
}

/** One objective term bound to a tensor of the augmented model: value Σ w·t^power. */
export interface BoundTerm {
  term: ObjectiveTerm;
  tensor: string;
  weights: Float32Array;
  dims: number[];
  power: 1 | 2;
}

export const OBJECTIVE_SYNTAX =
  'logit:C, channel:LAYER:C, neuron:LAYER:C:Y:X, dream:LAYER (Σ f²), combined with + and scaled as 0.5*TERM';

/**
 * Parse `logit:7`, `channel:conv3:12`, `neuron:conv3:12:4:4`, `dream:conv3`, sums with `+` and
 * scales as `0.5*channel:conv3:1`.
 *
 * @example
 * ```ts
 * parseObjective('logit:3 + 0.1*dream:relu2', 'logits');
 * ```
 */
export function parseObjective(text: string, logits: string): ObjectiveTerm[] {
  const parts = text.split('+').map((s) => s.trim());
  if (parts.some((p) => p === ''))
    throw new Error(`objective "${text}" has an empty term; syntax: ${OBJECTIVE_SYNTAX}`);
  return parts.map((part) => {
    const m = /^(?:(-?[0-9.eE+-]+)\s*\*\s*)?(.+)$/.exec(part)!;
    const scale = m[1] === undefined ? 1 : Number(m[1]);
    if (!Number.isFinite(scale)) throw new Error(`objective term "${part}": scale "${m[1]}" is not a number`);
    const fields = m[2].split(':');
    const int = (s: string | undefined, what: string) => {
      const n = Number(s);
      if (s === undefined || s.trim() === '' || !Number.isInteger(n) || n < 0)
        throw new Error(`objective term "${part}": ${what} must be a non-negative integer, got "${s ?? ''}"`);
      return n;
    };
    const [kind, ...rest] = fields;
    const layer = rest[0];
    const need = (count: number) => {
      if (rest.length !== count)
        throw new Error(
          `objective term "${part}" has ${rest.length} fields after "${kind}:", expected ${count}; syntax: ${OBJECTIVE_SYNTAX}`,
        );
    };
    switch (kind) {
      case 'logit':
        need(1);
        return {
          label: part,
          scale,
          kind: { type: 'logit', tensor: logits, index: int(rest[0], 'the class') },
        };
      case 'channel':
        need(2);
        return {
          label: part,
          scale,
          kind: { type: 'channel', tensor: layer, channel: int(rest[1], 'the channel') },
        };
      case 'neuron':
        need(4);
        return {
          label: part,
          scale,
          kind: {
            type: 'neuron',
            tensor: layer,
            channel: int(rest[1], 'the channel'),
            y: int(rest[2], 'y'),
            x: int(rest[3], 'x'),
          },
        };
      case 'dream':
        need(1);
        return { label: part, scale, kind: { type: 'dream', tensor: layer } };
      default:
        throw new Error(`objective term "${part}": unknown kind "${kind}"; syntax: ${OBJECTIVE_SYNTAX}`);
    }
  });
}

/**
 * The model with the nodes the terms need, and each term bound to a tensor with its seed weights
 * for a batch of `n` samples; names missing layers, channels or positions with the valid ones.
 */
export function bindObjective(
  model: Model,
  terms: readonly ObjectiveTerm[],
  dimsOf: (tensor: string) => number[] | undefined,
  tensors: readonly string[],
  n: number,
): { model: Model; bound: BoundTerm[] } {
  const out = cloneModel(model);
  const emit = new Emitter(out.opsets[''] ?? 13, 'objective');
  const bound: BoundTerm[] = [];
  for (const term of terms) {
    const k = term.kind;
    const dims = dimsOf(k.tensor);
    if (!dims)
      throw new Error(
        `objective "${term.label}": layer "${k.tensor}" not found; nearest: ${nearestNames(k.tensor, [...tensors], 5).join(', ')}`,
      );
    const full = [n, ...dims.slice(1)];
    const size = full.reduce((a, b) => a * b, 1);
    const per = size / n;
    const checkChannel = (c: number) => {
      if (full.length < 2 || c >= full[1])
        throw new Error(
          `objective "${term.label}": channel ${c} is out of range; "${k.tensor}" has channels 0-${(full[1] ?? 1) - 1}`,
        );
    };
    switch (k.type) {
      case 'logit':
      case 'logprob': {
        if (full.length !== 2)
          throw new Error(`objective "${term.label}": "${k.tensor}" is not [N, classes] (shape [${dims}])`);
        if (k.index >= full[1])
          throw new Error(`objective "${term.label}": class ${k.index} is out of range 0-${full[1] - 1}`);
        const tensor = k.type === 'logit' ? k.tensor : emit.op('LogSoftmax', [k.tensor], { axis: 1 });
        const w = new Float32Array(size);
        for (let i = 0; i < n; i++) w[i * full[1] + k.index] = term.scale;
        bound.push({ term, tensor, weights: w, dims: full, power: 1 });
        break;
      }
      case 'channel': {
        checkChannel(k.channel);
        const w = new Float32Array(size);
        const area = per / full[1];
        for (let i = 0; i < n; i++)
          w.fill(term.scale / area, i * per + k.channel * area, i * per + (k.channel + 1) * area);
        bound.push({ term, tensor: k.tensor, weights: w, dims: full, power: 1 });
        break;
      }
      case 'neuron': {
        checkChannel(k.channel);
        if (full.length !== 4 || k.y >= full[2] || k.x >= full[3])
          throw new Error(
            `objective "${term.label}": position (${k.y}, ${k.x}) is outside "${k.tensor}" [${dims}]`,
          );
        const w = new Float32Array(size);
        for (let i = 0; i < n; i++) w[i * per + (k.channel * full[2] + k.y) * full[3] + k.x] = term.scale;
        bound.push({ term, tensor: k.tensor, weights: w, dims: full, power: 1 });
        break;
      }
      case 'dream':
        // Mean of f² over the layer (DeepDream, Mordvintsev et al. 2015).
        // Squared terms read an Identity copy, so linear terms on the same tensor keep their own seed.
        bound.push({
          term,
          tensor: emit.op('Identity', [k.tensor]),
          weights: new Float32Array(size).fill(term.scale / per),
          dims: full,
          power: 2,
        });
        break;
      case 'l2':
        bound.push({
          term,
          tensor: emit.op('Identity', [k.tensor]),
          weights: new Float32Array(size).fill(-term.scale / per),
          dims: full,
          power: 2,
        });
        break;
      case 'match': {
        if (k.target.length !== per)
          throw new Error(
            `objective "${term.label}": target has ${k.target.length} values, "${k.tensor}" has ${per} per sample`,
          );
        const target = emit.constant(float32(k.target, [1, ...full.slice(1)]), 'target');
        const diff = emit.sub(k.tensor, target);
        bound.push({
          term,
          tensor: diff,
          weights: new Float32Array(size).fill(-term.scale / per),
          dims: full,
          power: 2,
        });
        break;
      }
      case 'gram': {
        if (full.length !== 4)
          throw new Error(`objective "${term.label}": "${k.tensor}" is not a spatial map [N, C, H, W]`);
        const [, c, h, w] = full;
        if (k.target.length !== c * c)
          throw new Error(
            `objective "${term.label}": target Gram has ${k.target.length} values, expected ${c}×${c}`,
          );
        const gram = gramNodes(emit, k.tensor, c, h * w);
        const diff = emit.sub(gram, emit.constant(float32(k.target, [1, c, c]), 'gram_target'));
        bound.push({
          term,
          tensor: diff,
          weights: new Float32Array(n * c * c).fill(-term.scale / (c * c)),
          dims: [n, c, c],
          power: 2,
        });
        break;
      }
    }
  }
  out.graph.nodes.push(...emit.nodes);
  for (const [name, t] of emit.initializers) out.graph.initializers.set(name, t);
  return { model: out, bound };
}

/**
 * G = F Fᵀ / (H·W) per sample: [N, C, H, W] → [N, C, C] (Gatys et al. 2015, eq. 3, normalised by
 * positions). Without `area`, H·W is read from the tensor's shape at run time, so the graph takes
 * any image size.
 */
export function gramNodes(emit: Emitter, tensor: string, channels: number, area?: number): string {
  const f = emit.reshape(tensor, area === undefined ? [0, channels, -1] : [-1, channels, area]);
  const g = emit.op('MatMul', [f, emit.transpose(f, [0, 2, 1])]);
  const positions =
    area === undefined
      ? emit.op(
          'Cast',
          [emit.op('Gather', [emit.op('Shape', [f]), emit.constant(int64([2], []))], { axis: 0 })],
          {
            to: 1,
          },
        )
      : emit.scalar(area);
  return emit.div(g, positions);
}

/** The Gram matrix F Fᵀ / (H·W) of sample `i` of a [N, C, H, W] map (the target for texture and style). */
export function gramMatrix(data: Float32Array, dims: number[], i = 0): Float32Array {
  const [, c, h, w] = dims;
  const area = h * w;
  const out = new Float32Array(c * c);
  const base = i * c * area;
  for (let a = 0; a < c; a++)
    for (let b = a; b < c; b++) {
      let s = 0;
      for (let j = 0; j < area; j++) s += data[base + a * area + j] * data[base + b * area + j];
      out[a * c + b] = out[b * c + a] = s / area;
    }
  return out;
}

/** Value of each bound term for sample `i` from the tensors fetched in the same run. */
export function termValues(
  bound: readonly BoundTerm[],
  fetched: Record<string, Float32Array>,
  i: number,
): number[] {
  return bound.map((b) => {
    const per = b.weights.length / b.dims[0];
    const t = fetched[b.tensor];
    let s = 0;
    for (let j = i * per; j < (i + 1) * per; j++) s += b.weights[j] * (b.power === 2 ? t[j] * t[j] : t[j]);
    return s;
  });
}
