/** The CLI's session options, from the global --threads, --provider and --spinning flags (set by main before each command). */
import { type Layout, withNchwInput } from '../onnx/layout.js';
import type { Model } from '../onnx/model.js';
import type { SessionOptions } from '../runtime/backend.js';
import { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';

let sessionOptions: SessionOptions = {};

export function setSessionOptions(options: SessionOptions): void {
  sessionOptions = { ...options };
}

/** The command line's session options (for code that opens sessions itself, like the gradient check). */
export function cliSessionOptions(): SessionOptions {
  return { ...sessionOptions };
}

/**
 * A model on onnxruntime-node with the command line's thread count and execution providers; a
 * channels-last model (`layout` 'nhwc', from its card) is adapted to take NCHW, as every method
 * computes in NCHW.
 */
export function openModel(model: Model, layout?: Layout): ConvlensModel {
  return new ConvlensModel(withNchwInput(model, layout), nodeBackend(), sessionOptions);
}
