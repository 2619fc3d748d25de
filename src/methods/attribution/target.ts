/**
 * What an attribution explains: the top-1 class, a class, or any channel or neuron of any tensor.
 * A target is bound to a batch once (top-1 needs a forward pass) and then yields objective weights
 * ("seeds") for any batch whose rows are copies of the original samples (SmoothGrad's noisy copies,
 * Integrated Gradients' path points, occluded images).
 */
import { nearestNames } from '../../onnx/graph.js';
import { elementCount, type Tensor } from '../../onnx/tensor.js';

export type Target =
  | { kind: 'top' }
  | { kind: 'class'; index: number }
  /** One class per sample (e.g. the ground-truth labels). */
  | { kind: 'classes'; indices: number[] }
  | { kind: 'channel'; tensor: string; channel: number }
  /** `index` addresses one element of a sample: [c, y, x] for a feature map, [k] for a vector. */
  | { kind: 'neuron'; tensor: string; index: number[] };

export const TARGET_SYNTAX = 'top, a class index or name, channel:TENSOR:C, neuron:TENSOR:C[:Y:X]';

/**
 * Parse a target: `top` (default), a class index (`3`) or name (`star`), `channel:conv3:12`,
 * or `neuron:conv3:12:4:4` (channel 12 at row 4, column 4) / `neuron:logits:7`.
 *
 * @example
 * ```ts
 * parseTarget('star', ['circle', 'square', 'triangle', 'star']); // { kind: 'class', index: 3 }
 * parseTarget('channel:features:5', []); // { kind: 'channel', tensor: 'features', channel: 5 }
 * ```
 */
export function parseTarget(text: string, classes: readonly string[]): Target {
  const t = text.trim();
  if (t === '' || t === 'top' || t === 'top1') return { kind: 'top' };
  const parts = t.split(':');
  const ints = (xs: string[], what: string) =>
    xs.map((x) => {
      const n = Number(x);
      if (x === '' || !Number.isInteger(n) || n < 0)
        throw new Error(`target "${text}": ${what} "${x}" is not a non-negative integer`);
      return n;
    });
  if (parts[0] === 'channel') {
    if (parts.length !== 3) throw new Error(`target "${text}": expected channel:TENSOR:C`);
    return { kind: 'channel', tensor: parts[1], channel: ints([parts[2]], 'channel')[0] };
  }
  if (parts[0] === 'neuron') {
    if (parts.length < 3) throw new Error(`target "${text}": expected neuron:TENSOR:C[:Y:X]`);
    return { kind: 'neuron', tensor: parts[1], index: ints(parts.slice(2), 'index') };
  }
  if (/^\d+$/.test(t)) {
    const index = Number(t);
    if (classes.length > 0 && index >= classes.length)
      throw new Error(
        `target class ${index} is out of range; the model has ${classes.length} classes (0..${classes.length - 1})`,
      );
    return { kind: 'class', index };
  }
  const index = classes.indexOf(t);
  if (index < 0) {
    const near = nearestNames(t, [...classes]);
    throw new Error(
      `target "${text}" is not a class name, a class index or one of: ${TARGET_SYNTAX}${near.length ? `; nearest classes: ${near.join(', ')}` : ''}`,
    );
  }
  return { kind: 'class', index };
}

/** A target fixed for a batch of N samples. */
export interface BoundTarget {
  /** The tensor whose weighted sum is the objective. */
  tensor: string;
  /** Shape of the tensor for one sample (without the batch axis). */
  sampleDims: number[];
  /** Per sample: the class explained (class and top targets only). */
  classes?: number[];
  /** Human-readable, per sample: "class 3 (star)", "channel 12 of conv3". */
  labels: string[];
  /** Seed weights for a batch whose row r explains original sample rows[r] (-1: a padding row, zero weight). */
  weights(rows: readonly number[]): Tensor;
  /**
   * The 'top' target before the prediction is known (see Explainer.bindLazily): a gradient run over
   * the samples themselves picks each row's class in the graph and fills in classes and labels;
   * anything else resolves it first (Explainer.resolve).
   */
  deferredTop?: boolean;
}

/**
 * Bind a target to a batch of `n` samples: `predicted` gives the top-1 class per sample (needed by
 * the 'top' target only), `logits` the classifier tensor and `dims` the shape (batch 1) of the
 * targeted tensor.
 */
export function bindTarget(
  target: Target,
  options: {
    n: number;
    logits: string;
    classes: readonly string[];
    predicted?: readonly number[];
    dimsOf: (tensor: string) => number[];
  },
): BoundTarget {
  const n = options.n;
  if (target.kind === 'top' && options.predicted?.length !== n)
    throw new Error(`the 'top' target needs the predicted class of each of the ${n} samples`);
  const className = (c: number) =>
    options.classes[c] !== undefined ? `class ${c} (${options.classes[c]})` : `class ${c}`;
  if (target.kind === 'top' || target.kind === 'class' || target.kind === 'classes') {
    const dims = options.dimsOf(options.logits).slice(1);
    const k = dims[dims.length - 1];
    if (target.kind === 'classes' && target.indices.length !== n)
      throw new Error(`target: ${target.indices.length} classes given for ${n} samples`);
    const classes =
      target.kind === 'top'
        ? [...options.predicted!]
        : target.kind === 'classes'
          ? [...target.indices]
          : new Array<number>(n).fill(target.index);
    for (const c of classes)
      if (!(c >= 0 && c < k))
        throw new Error(
          `target class ${c} is out of range; "${options.logits}" has ${k} classes (0..${k - 1})`,
        );
    return {
      tensor: options.logits,
      sampleDims: dims,
      classes,
      labels: classes.map(className),
      weights: (rows) => oneHotRows(dims, rows, (r) => classes[r]),
    };
  }
  const dims = options.dimsOf(target.tensor).slice(1);
  if (target.kind === 'channel') {
    if (dims.length < 1 || target.channel >= dims[0])
      throw new Error(
        `target channel ${target.channel} is out of range; "${target.tensor}" has ${dims[0] ?? 0} channels`,
      );
    const plane = elementCount(dims.slice(1));
    return {
      tensor: target.tensor,
      sampleDims: dims,
      labels: new Array(n).fill(`channel ${target.channel} of ${target.tensor}`),
      weights: (rows) => {
        const per = elementCount(dims);
        const data = new Float32Array(rows.length * per);
        rows.forEach((r, i) => {
          if (r >= 0) data.fill(1, i * per + target.channel * plane, i * per + (target.channel + 1) * plane);
        });
        return { dtype: 'float32', dims: [rows.length, ...dims], data };
      },
    };
  }
  if (target.index.length !== dims.length || target.index.some((v, i) => v >= dims[i]))
    throw new Error(
      `target neuron [${target.index.join(', ')}] does not address one element of "${target.tensor}" (per-sample shape [${dims.join(', ')}])`,
    );
  let flat = 0;
  for (let i = 0; i < dims.length; i++) flat = flat * dims[i] + target.index[i];
  return {
    tensor: target.tensor,
    sampleDims: dims,
    labels: new Array(n).fill(`neuron [${target.index.join(', ')}] of ${target.tensor}`),
    weights: (rows) => oneHotRows(dims, rows, () => flat),
  };
}

function oneHotRows(dims: number[], rows: readonly number[], at: (row: number) => number): Tensor {
  const per = elementCount(dims);
  const data = new Float32Array(rows.length * per);
  rows.forEach((r, i) => {
    if (r >= 0) data[i * per + at(r)] = 1;
  });
  return { dtype: 'float32', dims: [rows.length, ...dims], data };
}

/** The objective Σ w·t of each row of a fetched batch tensor. */
export function objectiveValues(t: Tensor, w: Tensor): Float64Array {
  const rows = t.dims[0];
  const per = elementCount(t.dims) / rows;
  const a = t.data as Float32Array;
  const b = w.data as Float32Array;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = r * per; i < (r + 1) * per; i++) if (b[i] !== 0) s += a[i] * b[i];
    out[r] = s;
  }
  return out;
}
