// Window gather/scatter shared by MaxPool and AveragePool, built from depthwise Conv/ConvTranspose
// with one-hot kernels, so no Indices output (slow in onnxruntime) and no opset-16 ScatterElements.
import { elementCount, type Tensor } from '../../../onnx/tensor.js';
import type { RuleContext } from '../../rule.js';
import { range, span, type Window } from './window.js';

/** [C·K, 1, k…] kernel whose channel c·K + o is one-hot at window offset o (K = Π k). */
export function oneHotKernel(channels: number, kernel: number[]): Tensor {
  const k = elementCount(kernel);
  const data = new Float32Array(channels * k * k);
  for (let ch = 0; ch < channels; ch++) for (let o = 0; o < k; o++) data[(ch * k + o) * k + o] = 1;
  return { dtype: 'float32', dims: [channels * k, 1, ...kernel], data };
}

/** Pad/crop X to the span the windows read, padding with `value`. */
export function windowInput(c: RuleContext, x: string, w: Window, value: number): string {
  const e = c.emit;
  const r = w.kernel.length;
  const spans = w.kernel.map((_, i) => span(w, i));
  const after = spans.map((s, i) => Math.max(0, s - w.padsBegin[i] - w.input[i]));
  const padded = e.pad(x, [0, 0, ...w.padsBegin, 0, 0, ...after], value);
  const needCrop = spans.some((s, i) => w.padsBegin[i] + w.input[i] + after[i] > s);
  return needCrop ? e.slice(padded, new Array(r).fill(0), spans, range(2, 2 + r)) : padded;
}

/**
 * Scatter-add window contributions back to the input: ConvTranspose with `kernel` (depthwise,
 * `channels` groups) then crop the padding. Returns a tensor shaped like X.
 */
export function scatterToInput(
  c: RuleContext,
  g: string,
  kernel: string,
  w: Window,
  channels: number,
): string {
  const e = c.emit;
  const r = w.kernel.length;
  const full = e.op('ConvTranspose', [g, kernel], {
    group: channels,
    strides: w.strides,
    dilations: w.dilations,
  });
  const spans = w.kernel.map((_, i) => span(w, i));
  const short = spans.map((s, i) => Math.max(0, w.padsBegin[i] + w.input[i] - s));
  const padded = short.some((s) => s > 0)
    ? e.pad(full, [0, 0, ...new Array(r).fill(0), 0, 0, ...short])
    : full;
  return e.slice(
    padded,
    w.padsBegin,
    w.padsBegin.map((p, i) => p + w.input[i]),
    range(2, 2 + r),
  );
}
