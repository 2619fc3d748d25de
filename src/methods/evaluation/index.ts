/** Faithfulness metrics and sanity checks of attribution maps. */
export {
  CONFIDENCE_SUBSTRATE,
  type ConfidenceChange,
  type ConfidenceOptions,
  confidenceChange,
} from './confidence.js';
export {
  type CurveKind,
  type CurveOptions,
  type Curves,
  DEFAULT_STEP,
  DEFAULT_SUBSTRATE,
  perturbationCurves,
  stepPixels,
  trapezoid,
} from './deletionInsertion.js';
export {
  evaluateFaithfulness,
  type FaithfulnessRequest,
  measureFaithfulness,
  parseMetrics,
} from './faithfulness.js';
export {
  BETTER,
  concatFaithfulnessMeasures,
  type FaithfulnessMeasures,
  type FaithfulnessReport,
  METRICS,
  type MethodFaithfulness,
  type MethodMeasures,
  type MetricName,
  summarizeFaithfulness,
} from './faithfulnessMeasures.js';
export { noisyLinearImputation } from './imputation.js';
export { SCORES, type Score, SUBSTRATES, type Substrate, substrateOf } from './perturbation.js';
export {
  type ChannelReduction,
  planesOf,
  type RelevancePlanes,
  rankingReduction,
  rankPixels,
  relevancePlanes,
} from './planes.js';
export { defaultTolerance, type PointingResult, pointingGame } from './pointingGame.js';
export {
  mapSimilarity,
  meanSimilarity,
  parameterRandomization,
  parameterRandomizationBySample,
  type RandomizationMode,
  type RandomizationStage,
  type SampleRandomizationStage,
  type SampleSimilarities,
  type Similarity,
  sampleSimilarities,
  similarityOfMaps,
  similarityOfMapsBySample,
} from './randomization.js';
export { ROAD_FRACTIONS, ROAD_NOISE, type RoadOptions, type RoadResult, road } from './road.js';
export { hog, hogSimilarity, pearson, ranks, spearman, ssim } from './similarity.js';
