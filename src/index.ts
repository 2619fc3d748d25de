/** convlens: open up convolutional neural networks (Node.js entry: the core plus files, sharp, onnxruntime-node). */
export * from './core.js';
export { conceptFolderSource, readConceptsFile } from './data/conceptFolder.js';
export {
  BUILTIN_DATASETS,
  decodeImage,
  IMAGE_EXTENSIONS,
  imageFolderSplits,
  loadDatasetSplits,
  loadImageFolder,
  loadMnist,
} from './data/node.js';
export { type LoadOptions, loadModel, readModelFile, writeModelFile } from './node.js';
export { encodePng, gridPng } from './render/node.js';
export { nodeBackend } from './runtime/node.js';
export { recipeJob, runTrainJob, type TrainJob } from './train/node.js';
export { runScouterJob, type ScouterJob, type ScouterJobResult } from './train/scouterJob.js';
