/** convlens: open up convolutional neural networks (Node.js entry). */
export {
  buildGradientGraph,
  type GradientSpec,
  gradName,
  MIN_OPSET,
  type ObjectiveTerm,
  seedName,
  supportedOps,
} from './autodiff/engine.js';
export {
  checkGradients,
  type GradientCheckOptions,
  type GradientCheckResult,
  samplers,
} from './autodiff/gradcheck.js';
export { RELU_RULES, type ReluRule } from './autodiff/rule.js';
export { channelSeed, classSeed, onesSeed } from './autodiff/seeds.js';
export { type LoadOptions, loadModel, readModelFile, writeModelFile } from './node.js';
export { GraphBuilder } from './onnx/builder.js';
export { consumers, producers, topologicalOrder } from './onnx/graph.js';
export { decodeModel, encodeModel, type Graph, type Model, type Node } from './onnx/model.js';
export { makeStatic, type StaticModel } from './onnx/static.js';
export { type DType, float32, int64, type Tensor } from './onnx/tensor.js';
export type { InferenceBackend, InferenceSession, SessionOptions } from './runtime/backend.js';
export { ConvlensModel, type GradientRequest, type GradientResult, type LayerInfo } from './runtime/model.js';
export { nodeBackend } from './runtime/node.js';
