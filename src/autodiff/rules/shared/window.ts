// Sliding-window geometry of Conv / ConvTranspose / pools, with auto_pad made explicit.
import type { RuleContext } from '../../rule.js';

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
  /** Spatial size of the input and of the output. */
  input: number[];
  output: number[];
}

/** Span of input positions one output row of windows reads: (out − 1)·s + (k − 1)·d + 1. */
export const span = (w: Window, i: number) =>
  (w.output[i] - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] + 1;

/** The window of a node: `c` reads its attributes and makes errors that name it. */
export function slidingWindow(
  c: Pick<RuleContext, 'ints' | 'string' | 'unsupported'>,
  kernel: number[],
  input: number[],
  output: number[],
): Window {
  const r = kernel.length;
  const strides = c.ints('strides', new Array(r).fill(1));
  const dilations = c.ints('dilations', new Array(r).fill(1));
  const autoPad = c.string('auto_pad', 'NOTSET');
  let padsBegin: number[];
  let padsEnd: number[];
  if (autoPad === 'NOTSET') {
    const pads = c.ints('pads', new Array(2 * r).fill(0));
    padsBegin = pads.slice(0, r);
    padsEnd = pads.slice(r);
  } else if (autoPad === 'VALID') {
    padsBegin = new Array(r).fill(0);
    padsEnd = new Array(r).fill(0);
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = kernel.map((k, i) =>
      Math.max(
        0,
        (Math.ceil(input[i] / strides[i]) - 1) * strides[i] + (k - 1) * dilations[i] + 1 - input[i],
      ),
    );
    padsBegin = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
    padsEnd = total.map((t, i) => t - padsBegin[i]);
  } else {
    throw c.unsupported(`auto_pad "${autoPad}" (allowed: NOTSET, VALID, SAME_UPPER, SAME_LOWER)`);
  }
  return { kernel, strides, dilations, padsBegin, padsEnd, input, output };
}

/** Attributes of a Conv/ConvTranspose with this window's geometry. */
export function windowAttrs(w: Window, swap = false) {
  return {
    strides: swap ? w.dilations : w.strides,
    dilations: swap ? w.strides : w.dilations,
    pads: [...w.padsBegin, ...w.padsEnd],
  };
}

export const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
