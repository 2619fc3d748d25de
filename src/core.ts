/** convlens core: the platform-free API (graph IR, autodiff, methods, maths, rendering to data), shared by the Node and browser entries. */
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
  ANALYTIC_RELATIVE_ERROR,
  checkGradients,
  type DirectionCheck,
  type GradientCheckOptions,
  type GradientCheckResult,
  samplers,
} from './autodiff/gradcheck.js';
export { RELU_RULES, type ReluRule } from './autodiff/rule.js';
export { channelSeed, classSeed, onesSeed } from './autodiff/seeds.js';
export { type Augmentation, affineImage, augmenter, transformImage } from './data/augment.js';
export {
  type BoxCalibration,
  CARD_KEY,
  calibratedThresholds,
  type ModelCard,
  readCard,
  validateCard,
  writeCard,
} from './data/card.js';
export {
  type Concept,
  type ConceptMask,
  type ConceptSample,
  type ConceptSource,
  type ConceptVocabulary,
  colourName,
  SHAPES_VOCABULARY,
  shapesConcepts,
} from './data/concepts.js';
export {
  arrayDataset,
  type Dataset,
  type DatasetSplits,
  holdOut,
  type ObjectAnnotation,
  resized,
  resizeImage,
  type Sample,
  shuffledLabels,
  subset,
} from './data/dataset.js';
export { MNIST_CLASSES, mnistSplits } from './data/mnist.js';
export { decodeNpy, encodeNpy } from './data/npy.js';
export {
  batchTensor,
  NORMALIZATIONS,
  normalizeInto,
  normalizeSample,
  type Preprocessing,
  preprocessing,
  RESIZE_MODES,
} from './data/preprocess.js';
export { drawShapes, SHAPE_CLASSES, type ShapeObject, shapesDataset, shapesSplits } from './data/shapes.js';
export { readStyleCard, STYLE_CARD_KEY, type StyleCard, withStyleCard } from './data/styleCard.js';
export { knnAccuracy, nearestNeighbours, neighboursOf } from './maths/neighbours.js';
export { pca } from './maths/pca.js';
export { type TsneOptions, tsne } from './maths/tsne.js';
export { umap } from './maths/umap.js';
export { featureMapsOf } from './methods/attribution/featureMaps.js';
export { findGapLinearHead } from './methods/attribution/head.js';
export {
  ATTRIBUTION_METHODS,
  type AttributionMap,
  type AttributionMethod,
  Explainer,
  type ExplainerOptions,
  type ExplainRequest,
  type ExplainResult,
  explain,
  findMethod,
  METHOD_NAMES,
  paramsOf,
  parseTarget,
  type Target,
} from './methods/attribution/index.js';
export {
  bestThreshold,
  calibrateBoxThreshold,
  evaluateLocalization,
  type LocalizationReport,
  type ThresholdScore,
} from './methods/attribution/localizationEval.js';
export { BOX_THRESHOLDS, type Box, boxIoU, boxThresholdFor, camBox } from './methods/attribution/localize.js';
export { scouterOf } from './methods/attribution/scouter.js';
export {
  BETTER as FAITHFULNESS_DIRECTIONS,
  type ChannelReduction,
  type ConfidenceChange,
  type ConfidenceOptions,
  type CurveKind,
  type CurveOptions,
  type Curves,
  confidenceChange,
  defaultTolerance,
  evaluateFaithfulness,
  type FaithfulnessReport,
  type FaithfulnessRequest,
  hog,
  hogSimilarity,
  METRICS as FAITHFULNESS_METRICS,
  type MethodFaithfulness,
  type MetricName,
  mapSimilarity,
  noisyLinearImputation,
  type PointingResult,
  parameterRandomization,
  parseMetrics,
  pearson,
  perturbationCurves,
  planesOf,
  pointingGame,
  type RandomizationMode,
  type RandomizationStage,
  type RelevancePlanes,
  ROAD_FRACTIONS,
  type RoadOptions,
  type RoadResult,
  rankingReduction,
  rankPixels,
  ranks,
  relevancePlanes,
  road,
  SCORES,
  type Score,
  type Similarity,
  SUBSTRATES,
  type Substrate,
  similarityOfMaps,
  spearman,
  ssim,
  stepPixels,
  substrateOf,
  trapezoid,
} from './methods/evaluation/index.js';
export { type ChannelStats, channelStats } from './methods/inspect/activations.js';
export {
  completeDissection,
  DEFAULT_IOU,
  DEFAULT_QUANTILE,
  type DissectionResult,
  type DissectionState,
  dissect,
  dissectionResult,
  dissectPass,
  emptyState as emptyDissection,
  type LayerRecord,
  mergeStates as mergeDissections,
  type UnitRecord,
} from './methods/inspect/dissect/dissect.js';
export {
  parseState as parseDissection,
  serializeState as serializeDissection,
} from './methods/inspect/dissect/state.js';
export { extractFeatures, type FeatureSet } from './methods/inspect/features.js';
export { type ConvLayer, convLayers, filterWeights, findConvLayer } from './methods/inspect/filters.js';
export {
  describeField,
  type Field,
  fieldRegion,
  type ReceptiveField,
  receptiveFields,
} from './methods/inspect/receptiveField.js';
export {
  checkIndex,
  classMeans,
  emptyIndex,
  mergeIndexes,
  type ScanHit,
  type ScanIndex,
  type ScanSource,
  scan,
  selectivity,
} from './methods/inspect/scan.js';
export { grabCut, type OpenCvLoader, openCv, setOpenCvLoader } from './methods/segmentation/grabcut.js';
export {
  DEFAULT_SEEDS,
  GRABCUT_LABELS,
  type SeedFractions,
  type Seeds,
  seedLabels,
} from './methods/segmentation/seeds.js';
export {
  maskIoU,
  type Segmentation,
  type SegmentOptions,
  seedPlane,
  segmentFromMap,
} from './methods/segmentation/segment.js';
export { type AttackOptions, type AttackResult, attack } from './methods/synthesis/attack.js';
export { type DreamOptions, type DreamResult, dream } from './methods/synthesis/dream.js';
export { type Inversion, invert, matchTerm } from './methods/synthesis/invert.js';
export {
  gramMatrix,
  type ObjectiveTerm as SynthesisTerm,
  parseObjective,
} from './methods/synthesis/objective.js';
export {
  type ImageParameterization,
  PARAMETERIZATIONS,
  type ParameterizationName,
  parameterize,
} from './methods/synthesis/parameterization.js';
export {
  checkLossLayers,
  PERCEPTUAL,
  type PerceptualLossSpec,
  perceptualLossModel,
  type StyleTargets,
  styleTargets,
} from './methods/synthesis/perceptualLoss.js';
export { randomFeatureNetwork } from './methods/synthesis/randomFeatures.js';
export { jsSpectrum, onnxSpectrum, type SpectrumTransform } from './methods/synthesis/spectrum.js';
export { type StyleChoice, Stylizer, styleWeights } from './methods/synthesis/stylize.js';
export {
  activationsAt,
  type SynthesisOptions,
  type SynthesisResult,
  synthesize,
  type TransformOptions,
} from './methods/synthesis/synthesize.js';
export {
  gramTerms,
  type SourceImage,
  type StyleOptions,
  style,
  texture,
} from './methods/synthesis/texture.js';
export { GraphBuilder } from './onnx/builder.js';
export { appendModel } from './onnx/compose.js';
export { toFloat64 } from './onnx/float64.js';
export { consumers, producers, topologicalOrder } from './onnx/graph.js';
export {
  type AxisRoles,
  axisRoles,
  channelsFirst,
  inputLayout,
  LAYOUTS,
  type Layout,
  toLayout,
  withNchwInput,
} from './onnx/layout.js';
export { decodeModel, encodeModel, type Graph, type Model, type Node } from './onnx/model.js';
export { makeStatic, type StaticModel, truncate } from './onnx/static.js';
export { type DType, float32, int64, type Tensor } from './onnx/tensor.js';
export { renderAttribution } from './render/attribution.js';
export { chartSvg, heatmapSpec, scatterSpec } from './render/charts.js';
export { COLORMAPS, colorize, colormap } from './render/colormap.js';
export { displayPlane } from './render/display.js';
export { dissectionSummarySpec, unitRegionImage } from './render/dissect.js';
export { embedPageHtml } from './render/embedPage.js';
export {
  faithfulnessCharts,
  faithfulnessHtml,
  faithfulnessMarkdown,
  faithfulnessSection,
  faithfulnessTable,
  linesSpec,
} from './render/faithfulness.js';
export { drawBox, overlay, type RgbImage } from './render/image.js';
export { channelGrid, cropRegion, filterGrid } from './render/inspect.js';
export { reportHtml } from './render/report.js';
export type { InferenceBackend, InferenceSession, SessionOptions } from './runtime/backend.js';
export {
  ConvlensModel,
  type GradientRequest,
  type GradientResult,
  type LayerInfo,
  MAX_SESSIONS,
} from './runtime/model.js';
export { gapClassifier, vggClassifier } from './train/architectures.js';
export { type Evaluation, evaluate } from './train/evaluate.js';
export { reinitialized, type WeightedLayer, weightedLayers } from './train/initialize.js';
export { Adam, cosineSchedule, type Optimizer, Sgd } from './train/optimizers.js';
export { findRecipe, RECIPES, type Recipe } from './train/recipes.js';
export { appendGapHead, checkFeatureMap, lastConvParameters } from './train/retrofit.js';
export {
  appendScouterHead,
  SCOUTER_TENSORS,
  type ScouterHead,
  type ScouterOptions,
  sinePositionalEncoding,
} from './train/scouter.js';
export { findScouterRecipe, SCOUTER_RECIPES, type ScouterRecipe } from './train/scouterRecipes.js';
export {
  conditionalInstanceNorm,
  STYLE_NETWORK_TENSORS,
  type StyleNetworkOptions,
  styleNetwork,
} from './train/styleNetwork.js';
export { findStyleRecipe, STYLE_RECIPES, type StyleRecipe } from './train/styleRecipes.js';
export {
  randomCrop,
  type StyleTrainingOptions,
  type StyleTrainingResult,
  styleNetworkParameters,
  trainStyleNetwork,
} from './train/styleTraining.js';
export { type TrainOptions, type TrainProgress, type TrainResult, train } from './train/trainer.js';
export { buildTrainingGraph, trainableParameters } from './train/trainingGraph.js';
