/**
 * The SCOUTER head (Li et al. 2021, "SCOUTER: Slot Attention-based Classifier for Explainable
 * Image Recognition", ICCV, §3): a slot-attention classifier on a backbone's feature map, with one
 * slot (or n) per class, whose class score is the sum of what the slot attends to, so the
 * attention map is the evidence itself.
 *
 *   x  = ReLU(Conv1×1(F)) ∈ ℝ^{n×d},  k = (x + PE) W_k + b_k      (PE: 2-D sine encoding)
 *   per iteration t = 1…T:  A = σ(D̂),  D = S kᵀ / √d,  D̂_ij = D_ij / Σ_j D_ij · Σ_ij D_ij
 *                           U = A x / d,  S ← GRU(U, S)  (t < T)
 *   score_c = λ · Σ_{slots of c} Σ_d U,   area = mean(A)
 *
 * λ = +1 (SCOUTER+) makes a class's score its positive evidence; λ = −1 (SCOUTER−) makes the class
 * whose slot finds the least evidence win, so a losing class's map shows why it is not that class.
 * The normalisation of D, the 1/d in U and the score as the plain sum over d follow the authors'
 * reference code; training adds w · area to the cross-entropy (their "area loss", eq. 6).
 */
import { Random } from '../maths/random.js';
import { freshNamer, nearestNames, tensorNames } from '../onnx/graph.js';
import { cloneModel, defaultOpset, type Model, type Node } from '../onnx/model.js';
import { pruneDeadNodes } from '../onnx/static.js';
import { float32, int64, type Tensor } from '../onnx/tensor.js';

export interface ScouterOptions {
  classes: number;
  /** +1: SCOUTER+ (evidence for); −1: SCOUTER− (evidence against). */
  lambda: 1 | -1;
  /** Slots per class (default 1); a class's map and score sum over its slots. */
  slotsPerClass?: number;
  /** Hidden width d of the slots (default 64; even, for the sine encoding). */
  hidden?: number;
  /** Slot-attention iterations T (default 3). */
  iterations?: number;
  seed?: number;
}

export interface ScouterHead {
  model: Model;
  features: string;
  /** [N, classes] class scores. */
  logits: string;
  /** [N, classes, h, w] each class's attention (summed over its slots). */
  attention: string;
  /** [1] mean attention over the batch, slots and positions: the area loss before its weight. */
  area: string;
  /** The head's trainable initializers. */
  params: string[];
}

/** Names of the head's tensors (the model's own names are kept; clashes get a suffix). */
export const SCOUTER_TENSORS = {
  logits: 'logits',
  attention: 'scouter_attention',
  area: 'scouter_area',
} as const;

/**
 * The DETR-style 2-D sine positional encoding [1, d, h, w] (no normalisation; positions count from
 * 1): the first d/2 channels encode the row, the rest the column, as sin/cos pairs at frequencies
 * 10000^(−2⌊i/2⌋/(d/2)).
 *
 * @example
 * ```ts
 * sinePositionalEncoding(64, 16, 16); // Float32Array of 64·16·16, the head's PE constant
 * ```
 */
export function sinePositionalEncoding(d: number, h: number, w: number): Float32Array {
  const half = d / 2;
  const out = new Float32Array(d * h * w);
  for (let i = 0; i < half; i++) {
    const frequency = 10000 ** ((2 * Math.floor(i / 2)) / half);
    const wave = i % 2 === 0 ? Math.sin : Math.cos;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        out[(i * h + y) * w + x] = wave((y + 1) / frequency);
        out[((half + i) * h + y) * w + x] = wave((x + 1) / frequency);
      }
  }
  return out;
}

/**
 * `model` cut after the feature map `features` ([N, channels, h, w]) with a SCOUTER head appended.
 *
 * @example
 * ```ts
 * const head = appendScouterHead(backbone, 'features', 64, [16, 16], { classes: 6, lambda: 1 });
 * // head.model outputs head.logits; head.attention holds each class's map
 * ```
 */
export function appendScouterHead(
  model: Model,
  features: string,
  channels: number,
  [h, w]: [number, number],
  options: ScouterOptions,
): ScouterHead {
  const d = options.hidden ?? 64;
  const spc = options.slotsPerClass ?? 1;
  const iterations = options.iterations ?? 3;
  const { classes, lambda } = options;
  if (lambda !== 1 && lambda !== -1) throw new Error(`lambda must be +1 or -1, got ${lambda}`);
  if (!(Number.isInteger(spc) && spc >= 1))
    throw new Error(`slots per class must be an integer ≥ 1, got ${spc}`);
  if (!(Number.isInteger(d) && d >= 2 && d % 2 === 0))
    throw new Error(`the hidden width must be an even integer ≥ 2, got ${d}`);
  if (!(Number.isInteger(iterations) && iterations >= 1))
    throw new Error(`iterations must be an integer ≥ 1, got ${iterations}`);
  if (!(Number.isInteger(classes) && classes >= 2)) throw new Error(`classes must be ≥ 2, got ${classes}`);
  const opset = defaultOpset(model);
  if (opset < 13) throw new Error(`the backbone uses opset ${opset}; SCOUTER heads need opset 13 or later`);

  const m = cloneModel(model);
  const g = m.graph;
  g.outputs = [{ name: features }];
  pruneDeadNodes(m);
  const names = tensorNames(g);
  if (!names.includes(features))
    throw new Error(`layer "${features}" not found; nearest: ${nearestNames(features, names).join(', ')}`);
  const fresh = freshNamer(g);
  const rng = new Random(options.seed ?? 0);
  const params: string[] = [];
  const param = (name: string, t: Tensor) => {
    const n = fresh(`scouter_${name}`);
    g.initializers.set(n, t);
    params.push(n);
    return n;
  };
  const constant = (name: string, t: Tensor) => {
    const n = fresh(`scouter_${name}`);
    g.initializers.set(n, t);
    return n;
  };
  const uniform = (dims: number[], bound: number) =>
    float32(
      Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.uniform(-bound, bound)),
      dims,
    );
  const op = (opType: string, inputs: string[], name: string, attrs: Node['attrs'] = {}) => {
    const out = fresh(name);
    g.nodes.push({ name: out, opType, domain: '', inputs, outputs: [out], attrs });
    return out;
  };
  const ints = (values: number[]) => constant('shape', int64(values));
  const scalar = (v: number) => constant('scalar', float32([v], []));
  const n = h * w;
  const slots = classes * spc;

  // x = ReLU(Conv1×1(F)) and k = (x + PE) W_k + b_k, as [N, n, d].
  const bound = (fan: number) => 1 / Math.sqrt(fan);
  const conv = op(
    'Conv',
    [
      features,
      param('proj_w', uniform([d, channels, 1, 1], bound(channels))),
      param('proj_b', uniform([d], bound(channels))),
    ],
    'scouter_proj',
    { kernel_shape: { type: 'ints', value: [1, 1] } },
  );
  const x = op('Relu', [conv], 'scouter_x');
  const withPosition = op(
    'Add',
    [x, constant('pe', float32(sinePositionalEncoding(d, h, w), [1, d, h, w]))],
    'scouter_x_pe',
  );
  const tokens = (t: string, name: string) =>
    op('Transpose', [op('Reshape', [t, ints([0, d, n])], `${name}_rows`)], name, {
      perm: { type: 'ints', value: [0, 2, 1] },
    });
  const xs = tokens(x, 'scouter_tokens');
  const k = op(
    'Add',
    [
      op(
        'MatMul',
        [tokens(withPosition, 'scouter_tokens_pe'), param('to_k_w', uniform([d, d], bound(d)))],
        'scouter_k_mm',
      ),
      param('to_k_b', uniform([d], bound(d))),
    ],
    'scouter_k',
  );
  const kT = op('Transpose', [k], 'scouter_k_t', { perm: { type: 'ints', value: [0, 2, 1] } });

  // GRU cell (PyTorch's gate order and biases): r, z = σ(x W_i + b_i + h W_h + b_h), n = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn)).
  const gate = (name: string) => ({
    wi: param(`gru_${name}_wi`, uniform([d, d], bound(d))),
    bi: param(`gru_${name}_bi`, uniform([d], bound(d))),
    wh: param(`gru_${name}_wh`, uniform([d, d], bound(d))),
    bh: param(`gru_${name}_bh`, uniform([d], bound(d))),
  });
  const [gr, gz, gn] = [gate('r'), gate('z'), gate('n')];
  const affine = (input: string, weight: string, bias: string, name: string) =>
    op('Add', [op('MatMul', [input, weight], `${name}_mm`), bias], name);
  const gru = (u: string, s: string, t: number) => {
    const sig = (gw: typeof gr, name: string) =>
      op(
        'Sigmoid',
        [
          op(
            'Add',
            [affine(u, gw.wi, gw.bi, `${name}_i`), affine(s, gw.wh, gw.bh, `${name}_h`)],
            `${name}_sum`,
          ),
        ],
        name,
      );
    const r = sig(gr, `scouter_gru${t}_r`);
    const z = sig(gz, `scouter_gru${t}_z`);
    const cand = op(
      'Tanh',
      [
        op(
          'Add',
          [
            affine(u, gn.wi, gn.bi, `scouter_gru${t}_n_i`),
            op('Mul', [r, affine(s, gn.wh, gn.bh, `scouter_gru${t}_n_h`)], `scouter_gru${t}_rn`),
          ],
          `scouter_gru${t}_n_sum`,
        ),
      ],
      `scouter_gru${t}_n`,
    );
    // h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
    return op(
      'Add',
      [cand, op('Mul', [z, op('Sub', [s, cand], `scouter_gru${t}_diff`)], `scouter_gru${t}_zd`)],
      `scouter_slots${t}`,
    );
  };

  let s = param('slots', float32(rng.normals(slots * d, 1), [1, slots, d]));
  let attention = '';
  let updates = '';
  const scale = scalar(1 / Math.sqrt(d));
  for (let t = 1; t <= iterations; t++) {
    const dots = op('Mul', [op('MatMul', [s, kT], `scouter_dots${t}_mm`), scale], `scouter_dots${t}`);
    const rowSum = op('ReduceSum', [dots, ints([2])], `scouter_dots${t}_rows`, {
      keepdims: { type: 'int', value: 1 },
    });
    const total = op('ReduceSum', [dots, ints([1, 2])], `scouter_dots${t}_total`, {
      keepdims: { type: 'int', value: 1 },
    });
    const normalized = op(
      'Mul',
      [op('Div', [dots, rowSum], `scouter_dots${t}_share`), total],
      `scouter_dots${t}_norm`,
    );
    attention = op('Sigmoid', [normalized], `scouter_attn${t}`);
    updates = op(
      'Div',
      [op('MatMul', [attention, xs], `scouter_updates${t}_mm`), scalar(d)],
      `scouter_updates${t}`,
    );
    if (t < iterations) s = gru(updates, s, t);
  }

  // Per class: sum over its slots, then λ · Σ_d for the score; maps [N, classes, h, w].
  const perClass = (t: string, last: number, name: string) =>
    spc === 1
      ? t
      : op(
          'ReduceSum',
          [op('Reshape', [t, ints([0, classes, spc, last])], `${name}_split`), ints([2])],
          name,
          { keepdims: { type: 'int', value: 0 } },
        );
  const classUpdates = perClass(updates, d, 'scouter_class_updates');
  const summed = op('ReduceSum', [classUpdates, ints([2])], 'scouter_evidence', {
    keepdims: { type: 'int', value: 0 },
  });
  const logits = op('Mul', [summed, scalar(lambda)], SCOUTER_TENSORS.logits);
  const maps = op(
    'Reshape',
    [perClass(attention, n, 'scouter_class_attention'), ints([0, classes, h, w])],
    SCOUTER_TENSORS.attention,
  );
  const area = op(
    'Reshape',
    [op('ReduceMean', [attention], 'scouter_area_mean', { keepdims: { type: 'int', value: 0 } }), ints([1])],
    SCOUTER_TENSORS.area,
  );
  // The attention and the area are outputs too, so no pass that prunes to the outputs drops them.
  g.outputs = [{ name: logits }, { name: maps }, { name: area }];
  return { model: m, features, logits, attention: maps, area, params };
}
